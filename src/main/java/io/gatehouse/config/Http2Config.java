package io.gatehouse.config;

/**
 * HTTP/2 on a listener without TLS.
 *
 * @param cleartext accept HTTP/2 with prior knowledge (RFC 9113 §3.3: the client opens with the
 *     connection preface); other connections are HTTP/1.1. The {@code Upgrade: h2c} route stays
 *     closed either way.
 */
public record Http2Config(boolean cleartext) {
  public static final Http2Config DEFAULT = new Http2Config(false);
}
