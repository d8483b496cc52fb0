package io.gatehouse.pool;

import io.netty.channel.Channel;
import java.util.HashMap;
import java.util.Map;

/**
 * Upstream connections bound to one client connection: those of clusters with
 * {@code proxyProtocol}, whose PROXY header names that client (its address and port), so they may
 * carry its next requests and no one else's (HAProxy keeps {@code send-proxy} connections private
 * to their client session the same way). Between requests the connection is parked in its pool
 * ({@link ConnectionPool#park}), which still drains, retires and closes it; it closes with the
 * client connection ({@link #close}).
 *
 * <p>Confined to the client connection's event loop, which is also its pools' loop: plain fields.
 */
public final class BoundConnections {
  /** At most one parked connection per peer: an HTTP/1.1 client connection sends one request at a time. */
  private Map<PeerSpec, Channel> parked;
  private boolean closed;

  /** The connection parked for {@code peer}, still usable, or null; it leaves the park. */
  public Channel take(PeerSpec peer, ConnectionPool pool) {
    Channel ch = parked == null ? null : parked.remove(peer);
    return ch != null && pool.unpark(ch) ? ch : null;
  }

  /**
   * Keeps {@code ch} for this client's next request to {@code peer} after a clean exchange; closes
   * it when the client connection is gone or its pool keeps nothing now (drain, retired spec).
   */
  public void keep(PeerSpec peer, Channel ch, ConnectionPool pool) {
    if (closed) {
      pool.discard(ch);
      return;
    }
    if (!pool.park(ch)) {
      return; // closed by the pool
    }
    if (parked == null) {
      parked = new HashMap<>(2);
    }
    Channel before = parked.put(peer, ch);
    if (before != null && before != ch) {
      before.close();
    }
  }

  /** The client connection closed: so do the connections bound to it. */
  public void close() {
    closed = true;
    if (parked != null) {
      parked.values().forEach(Channel::close);
      parked = null;
    }
  }
}
