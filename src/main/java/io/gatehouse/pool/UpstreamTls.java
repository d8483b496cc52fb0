package io.gatehouse.pool;

import io.netty.handler.ssl.SslContext;

/**
 * TLS to an upstream: the client context (trust, verification) and the name sent as SNI and
 * checked against the certificate. Part of a pool's key, so plain and TLS connections to one
 * address never mix.
 *
 * @param serverName SNI and verified name; null uses the endpoint host
 */
public record UpstreamTls(SslContext context, String serverName, boolean verifyHostname) {}
