package io.gatehouse.relay;

import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A response in flight that a hand-off can move to a successor process with its client and
 * upstream sockets: one relayed by this process's HTTP/1 exchange ({@link ResponseHandover}), or
 * one a predecessor moved here and that is moving on at the next restart ({@link ResumedResponse}).
 * The hand-off's thread {@link #freeze}s it, sends both descriptors with its description, then
 * closes this process's copies ({@link #movedAway}) or puts it back to work ({@link #thaw}).
 */
public interface ResponseMove {
  /** How long a connection is handed over before its response in flight is moved rather than waited for. */
  long WAIT_FOR_END_NANOS = TimeUnit.SECONDS.toNanos(1);

  /**
   * The response move of {@code ch} if the drain has handed its connection over for longer than
   * {@link #WAIT_FOR_END_NANOS} (a response that ends sooner is not worth moving: the connection
   * moves once idle), else null. Whether a response is in flight is {@link #freeze}'s to find out.
   * Any thread; {@code nowNanos} from {@code System.nanoTime()}.
   */
  static ResponseMove due(Channel ch, long nowNanos) {
    ProxyConnectionHandler handler = ProxyConnectionHandler.started(ch);
    if (handler != null) {
      return due(handler.handover().handingOverSince(), nowNanos) ? new ResponseHandover(ch, handler, handler.handover()) : null;
    }
    ResumedResponse resumed = ResumedResponse.of(ch);
    return resumed != null && due(resumed.handingOverSince(), nowNanos) ? resumed : null;
  }

  private static boolean due(long since, long nowNanos) {
    return since != 0 && nowNanos - since > WAIT_FOR_END_NANOS;
  }

  Channel client();

  /** The upstream connection, once frozen. */
  Channel upstream();

  /**
   * Stops the upstream's reading and takes both channels off the event loop; completes with the
   * response's description (with what the client has not taken yet), or with null when there is
   * nothing to move now (it goes on here, and may be tried again later).
   */
  Future<ResponseHandover.Frozen> freeze();

  /** The response goes on here (the successor refused it, or the hand-off broke off). */
  void thaw();

  /** The successor holds both sockets: this process's copies close, and it writes no record of its own. */
  Future<?> movedAway();
}
