package io.gatehouse.pool;

import io.gatehouse.config.HostPort;
import io.gatehouse.config.ProxyProtocolVersion;

/**
 * Everything needed to open and keep connections to one upstream peer, compiled once per config
 * generation: the address, TLS (SNI, verification, ALPN live in {@link UpstreamTls}) and the pool's
 * limits and timeouts. It is the pool's key, so a reload that changes any of these gets a pool with
 * the new settings at the next request, and the pool of the old settings is retired (idle
 * connections close now, busy ones when their exchange ends).
 *
 * @param tls null for plain HTTP
 * @param maxPending most callers waiting for a connection; 0 = the pool's default
 * @param proxyProtocol the PROXY header every connection opens with, or null; with one, a
 *     connection carries one client's requests only: it is bound to that client connection, never
 *     shared (see {@link BoundConnections})
 * @param maxPerEndpoint most connections to the peer over every event loop; 0 = no limit
 * @param http2 the peer is spoken to in HTTP/2: its pool hands out streams of shared connections
 *     ({@link Http2ConnectionPool}); over TLS, {@code tls}'s context offers ALPN {@code h2}
 * @param pingIntervalNanos HTTP/2: a connection with open streams that read nothing for this long is
 *     sent a PING; 0 = never
 * @param pingTimeoutNanos HTTP/2: how long a PING may go unanswered (no frame read) before the
 *     connection is closed as dead
 */
public record PeerSpec(
    HostPort address, UpstreamTls tls, int maxConnections, int maxPending, long maxIdleNanos,
    long connectTimeoutNanos, ProxyProtocolVersion proxyProtocol, int maxPerEndpoint, boolean http2,
    long pingIntervalNanos, long pingTimeoutNanos) {

  /** Without PINGs. */
  public PeerSpec(HostPort address, UpstreamTls tls, int maxConnections, int maxPending, long maxIdleNanos,
      long connectTimeoutNanos, ProxyProtocolVersion proxyProtocol, int maxPerEndpoint, boolean http2) {
    this(address, tls, maxConnections, maxPending, maxIdleNanos, connectTimeoutNanos, proxyProtocol, maxPerEndpoint,
        http2, 0, 0);
  }

  /** HTTP/1.1 to the peer. */
  public PeerSpec(HostPort address, UpstreamTls tls, int maxConnections, int maxPending, long maxIdleNanos,
      long connectTimeoutNanos, ProxyProtocolVersion proxyProtocol, int maxPerEndpoint) {
    this(address, tls, maxConnections, maxPending, maxIdleNanos, connectTimeoutNanos, proxyProtocol, maxPerEndpoint, false);
  }

  /** Without a limit over the event loops. */
  public PeerSpec(HostPort address, UpstreamTls tls, int maxConnections, int maxPending, long maxIdleNanos,
      long connectTimeoutNanos, ProxyProtocolVersion proxyProtocol) {
    this(address, tls, maxConnections, maxPending, maxIdleNanos, connectTimeoutNanos, proxyProtocol, 0);
  }

  /** Without the PROXY protocol. */
  public PeerSpec(HostPort address, UpstreamTls tls, int maxConnections, int maxPending, long maxIdleNanos,
      long connectTimeoutNanos) {
    this(address, tls, maxConnections, maxPending, maxIdleNanos, connectTimeoutNanos, null);
  }
}
