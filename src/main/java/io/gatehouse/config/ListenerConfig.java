package io.gatehouse.config;

/**
 * One listening socket.
 *
 * @param forward settings of a forward listener; {@code null} on reverse listeners
 * @param tls TLS termination; {@code null} for plain TCP
 * @param headers which client-identifying headers this listener adds upstream
 * @param http2 HTTP/2 without TLS (prior knowledge); over TLS, {@code tls.alpn} decides
 */
public record ListenerConfig(
    String name,
    HostPort bind,
    ListenerMode mode,
    ForwardConfig forward,
    TlsConfig tls,
    ForwardedHeadersConfig headers,
    Http2Config http2) {}
