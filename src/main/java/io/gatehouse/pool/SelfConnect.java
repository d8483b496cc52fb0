package io.gatehouse.pool;

import io.netty.channel.Channel;
import java.net.ConnectException;
import java.net.SocketAddress;

/**
 * Recognises a TCP self-connect: a connect to a closed loopback port in the ephemeral range can be
 * given that same port as its source port, and the SYN then meets itself (simultaneous open,
 * RFC 9293 §3.5): the connect "succeeds" with nobody listening, and the peer echoes every request
 * byte back. Such a connection is closed and treated as refused.
 */
public final class SelfConnect {
  private SelfConnect() {}

  /** Whether {@code ch} is connected to itself. */
  public static boolean is(Channel ch) {
    SocketAddress local = ch.localAddress();
    return local != null && local.equals(ch.remoteAddress());
  }

  /** The failure reported instead of the connection; a plain refusal for the callers. */
  public static ConnectException refused(SocketAddress remote) {
    return new ConnectException("connection refused: " + remote + " (self-connect, nothing listens there)");
  }
}
