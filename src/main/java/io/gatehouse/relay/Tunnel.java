package io.gatehouse.relay;

import io.gatehouse.http.Reason;

/**
 * A tunnel as its access-log record reads it: a CONNECT's or an upgrade's bytes relayed both ways
 * between two sockets ({@link TunnelRelay}), or between an HTTP/2 stream and a socket
 * ({@link Http2StreamTunnel}).
 */
public interface Tunnel {
  /** Bytes from the client to the upstream. */
  long bytesUp();

  /** Bytes from the upstream to the client. */
  long bytesDown();

  long durationNanos();

  /** True when a graceful stop's deadline ended the tunnel (logged as {@code drain_deadline}). */
  boolean cutAtDrainDeadline();

  /** True when the tunnel ended because nothing moved for the idle timeout. */
  boolean idleExpired();

  /** What ended the tunnel, for the access log: idle timeout, drain deadline, or its own end. */
  default Reason outcome() {
    return cutAtDrainDeadline() ? Reason.DRAIN_DEADLINE : idleExpired() ? Reason.UPSTREAM_TIMEOUT : Reason.OK;
  }
}
