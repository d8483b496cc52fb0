package io.gatehouse.config;

/**
 * One listening socket.
 *
 * @param forward settings of a forward listener; {@code null} on reverse listeners
 * @param tls TLS termination; {@code null} for plain TCP
 * @param headers which client-identifying headers this listener adds upstream
 * @param http2 HTTP/2 without TLS (prior knowledge); over TLS, {@code tls.alpn} decides
 * @param drainTimeout this listener's drain deadline; {@code null} when {@code limits.drainTimeout}
 *     applies, {@link java.time.Duration#ZERO} to wait for its connections without a deadline
 * @param proxyProtocol accept PROXY protocol headers from trusted balancers; {@code null} = off
 */
public record ListenerConfig(
    String name,
    HostPort bind,
    ListenerMode mode,
    ForwardConfig forward,
    TlsConfig tls,
    ForwardedHeadersConfig headers,
    Http2Config http2,
    java.time.Duration drainTimeout,
    ProxyProtocolConfig proxyProtocol) {

  /** Without the PROXY protocol. */
  public ListenerConfig(String name, HostPort bind, ListenerMode mode, ForwardConfig forward, TlsConfig tls,
      ForwardedHeadersConfig headers, Http2Config http2, java.time.Duration drainTimeout) {
    this(name, bind, mode, forward, tls, headers, http2, drainTimeout, null);
  }

  /** The drain deadline of this listener's connections: its own, else {@code limits.drainTimeout}. */
  public java.time.Duration drainTimeout(LimitsConfig limits) {
    return drainTimeout == null ? limits.drainTimeout() : drainTimeout;
  }
}
