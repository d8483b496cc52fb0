package io.gatehouse.config;

/**
 * One listening socket.
 *
 * @param forward settings of a forward listener; {@code null} on reverse listeners
 * @param tls TLS termination; {@code null} for plain TCP
 * @param headers which client-identifying headers this listener adds upstream
 */
public record ListenerConfig(
    String name,
    HostPort bind,
    ListenerMode mode,
    ForwardConfig forward,
    TlsConfig tls,
    ForwardedHeadersConfig headers) {}
