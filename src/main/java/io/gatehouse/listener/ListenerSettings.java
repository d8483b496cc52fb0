package io.gatehouse.listener;

import io.gatehouse.config.LimitsConfig;
import io.gatehouse.config.ListenerConfig;

/**
 * What a new client connection of one listener is built from: this listener's entry in a
 * generation (lifecycle's Snapshot). Read once per connection, when it is accepted; an open
 * connection keeps the codec limits, timeouts, TLS context and handler it was built with.
 *
 * @param tls the listener's TLS contexts (SNI, ALPN), or null for cleartext
 * @param handlers creates the terminal proxy handler of each connection (or HTTP/2 stream)
 */
public record ListenerSettings(ListenerConfig config, LimitsConfig limits, ServerTls tls, ProxyHandlerFactory handlers) {
  /** Without TLS, accept HTTP/2 with prior knowledge (RFC 9113 §3.3). */
  boolean cleartextHttp2() {
    return config.http2().cleartext();
  }
}
