package io.gatehouse.relay;

import io.gatehouse.http.Reason;
import io.netty.channel.Channel;

/**
 * Where an exchange's upstream connections come from: the reverse proxy picks an endpoint of a
 * cluster, the forward proxy the origin of the request. One instance per exchange; called on the
 * client's event loop only.
 */
public interface UpstreamConnector {
  /** Obtains a connection for the given attempt (0-based); {@code fresh} forbids a pooled one. */
  void connect(int attempt, boolean fresh, ConnectCallback callback);

  /** Whether a failed attempt may be made again; the relay has checked the request can be replayed. */
  boolean mayRetry(int attempt, Reason failure);

  /**
   * Whether a bodiless request answered with {@code status} may be tried again (elsewhere); the
   * relay then discards that response and its connection.
   */
  default boolean mayRetryStatus(int attempt, int status) {
    return false;
  }

  /**
   * The exchange is done with {@code upstream} (null when it never got one).
   *
   * @param reusable the connection is clean and may serve another exchange
   * @param failure why the attempt failed, or {@link Reason#OK}
   * @param status the upstream's response status, 0 when none
   */
  void finish(Channel upstream, boolean reusable, Reason failure, int status);

  /** Name of the upstream for logs: endpoint or origin address, {@code -} before a choice. */
  String upstreamLabel();

  /** Receives the result of {@link #connect}. */
  interface ConnectCallback {
    void connected(Channel upstream, boolean reused);

    void failed(Reason reason, Throwable cause);
  }
}
