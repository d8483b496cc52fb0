package io.gatehouse.pool;

import io.gatehouse.config.HostPort;
import io.gatehouse.config.ProxyProtocolVersion;
import java.util.Objects;

/**
 * Everything needed to open and keep connections to one upstream peer, compiled once per config
 * generation: the address, TLS (SNI, verification, ALPN live in {@link UpstreamTls}) and the pool's
 * limits and timeouts. It is the pool's key, so a reload that changes any of these gets a pool with
 * the new settings at the next request, and the pool of the old settings is retired (idle
 * connections close now, busy ones when their exchange ends).
 *
 * <ul>
 * <li>{@code tls}: null for plain HTTP
 * <li>{@code maxPending}: most callers waiting for a connection; 0 = the pool's default
 * <li>{@code proxyProtocol}: the PROXY header every connection opens with, or null; with one, a
 *     connection carries one client's requests only: it is bound to that client connection, never
 *     shared (see {@link BoundConnections})
 * <li>{@code maxPerEndpoint}: most connections to the peer over every event loop; 0 = no limit
 * <li>{@code http2}: the peer is spoken to in HTTP/2: its pool hands out streams of shared connections
 *     ({@link Http2ConnectionPool}); over TLS, {@code tls}'s context offers ALPN {@code h2}
 * <li>{@code pingIntervalNanos}: HTTP/2: a connection with open streams that read nothing for this long is
 *     sent a PING; 0 = never
 * <li>{@code pingTimeoutNanos}: HTTP/2: how long a PING may go unanswered (no frame read) before the
 *     connection is closed as dead
 * </ul>
 */
public final class PeerSpec {
  private final HostPort address;
  private final UpstreamTls tls;
  private final int maxConnections;
  private final int maxPending;
  private final long maxIdleNanos;
  private final long connectTimeoutNanos;
  private final ProxyProtocolVersion proxyProtocol;
  private final int maxPerEndpoint;
  private final boolean http2;
  private final long pingIntervalNanos;
  private final long pingTimeoutNanos;
  /**
   * Computed once: a spec is looked up (pools, retirement) two to three times per request, and a
   * record recomputes its hash over all eleven components on every call.
   */
  private final int hash;

  public PeerSpec(
      HostPort address, UpstreamTls tls, int maxConnections, int maxPending, long maxIdleNanos,
      long connectTimeoutNanos, ProxyProtocolVersion proxyProtocol, int maxPerEndpoint, boolean http2,
      long pingIntervalNanos, long pingTimeoutNanos) {
    this.address = address;
    this.tls = tls;
    this.maxConnections = maxConnections;
    this.maxPending = maxPending;
    this.maxIdleNanos = maxIdleNanos;
    this.connectTimeoutNanos = connectTimeoutNanos;
    this.proxyProtocol = proxyProtocol;
    this.maxPerEndpoint = maxPerEndpoint;
    this.http2 = http2;
    this.pingIntervalNanos = pingIntervalNanos;
    this.pingTimeoutNanos = pingTimeoutNanos;
    this.hash = Objects.hash(address, tls, maxConnections, maxPending, maxIdleNanos, connectTimeoutNanos,
        proxyProtocol, maxPerEndpoint, http2, pingIntervalNanos, pingTimeoutNanos);
  }

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

  public HostPort address() {
    return address;
  }

  public UpstreamTls tls() {
    return tls;
  }

  public int maxConnections() {
    return maxConnections;
  }

  public int maxPending() {
    return maxPending;
  }

  public long maxIdleNanos() {
    return maxIdleNanos;
  }

  public long connectTimeoutNanos() {
    return connectTimeoutNanos;
  }

  public ProxyProtocolVersion proxyProtocol() {
    return proxyProtocol;
  }

  public int maxPerEndpoint() {
    return maxPerEndpoint;
  }

  public boolean http2() {
    return http2;
  }

  public long pingIntervalNanos() {
    return pingIntervalNanos;
  }

  public long pingTimeoutNanos() {
    return pingTimeoutNanos;
  }

  @Override
  public boolean equals(Object o) {
    return o == this || o instanceof PeerSpec p && hash == p.hash && maxConnections == p.maxConnections
        && maxPending == p.maxPending && maxIdleNanos == p.maxIdleNanos && connectTimeoutNanos == p.connectTimeoutNanos
        && maxPerEndpoint == p.maxPerEndpoint && http2 == p.http2 && pingIntervalNanos == p.pingIntervalNanos
        && pingTimeoutNanos == p.pingTimeoutNanos && proxyProtocol == p.proxyProtocol
        && address.equals(p.address) && Objects.equals(tls, p.tls);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return "PeerSpec[address=" + address + ", tls=" + tls + ", maxConnections=" + maxConnections + ", maxPending="
        + maxPending + ", maxIdleNanos=" + maxIdleNanos + ", connectTimeoutNanos=" + connectTimeoutNanos
        + ", proxyProtocol=" + proxyProtocol + ", maxPerEndpoint=" + maxPerEndpoint + ", http2=" + http2
        + ", pingIntervalNanos=" + pingIntervalNanos + ", pingTimeoutNanos=" + pingTimeoutNanos + "]";
  }
}
