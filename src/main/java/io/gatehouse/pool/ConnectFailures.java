package io.gatehouse.pool;

import io.gatehouse.http.Reason;
import io.netty.channel.ConnectTimeoutException;

/** What a failed {@link ConnectionPool#acquire} means for the client: 504, 503 or 502. */
public final class ConnectFailures {
  private ConnectFailures() {}

  public static Reason reason(Throwable cause) {
    if (cause instanceof ConnectTimeoutException) {
      return Reason.UPSTREAM_TIMEOUT;
    }
    if (cause instanceof PoolOverloadedException) {
      return Reason.OVERLOADED; // every connection busy and the queue full, or waited too long
    }
    return Reason.UPSTREAM_CONNECT_FAILED;
  }
}
