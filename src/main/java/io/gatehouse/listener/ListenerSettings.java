package io.gatehouse.listener;

import io.gatehouse.config.LimitsConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.http.Cidr;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;

/**
 * What a new client connection of one listener is built from: this listener's entry in a
 * generation (lifecycle's Snapshot). Read once per connection, when it is accepted; an open
 * connection keeps the codec limits, timeouts, TLS context and handler it was built with.
 *
 * @param tls the listener's TLS contexts (SNI, ALPN), or null for cleartext
 * @param handlers creates the terminal proxy handler of each connection (or HTTP/2 stream)
 * @param proxyProtocolFrom balancers whose connections open with a PROXY header; empty = none
 */
public record ListenerSettings(ListenerConfig config, LimitsConfig limits, ServerTls tls, ProxyHandlerFactory handlers,
    List<Cidr> proxyProtocolFrom) {

  public ListenerSettings(ListenerConfig config, LimitsConfig limits, ServerTls tls, ProxyHandlerFactory handlers) {
    this(config, limits, tls, handlers, config.proxyProtocol() == null ? List.of()
        : config.proxyProtocol().trustedFrom().stream().map(Cidr::parse).toList());
  }

  /** Without TLS, accept HTTP/2 with prior knowledge (RFC 9113 §3.3). */
  boolean cleartextHttp2() {
    return config.http2().cleartext();
  }

  /** Whether a connection from {@code remote} must open with a PROXY header. */
  boolean viaBalancer(SocketAddress remote) {
    if (proxyProtocolFrom.isEmpty() || !(remote instanceof InetSocketAddress inet)) {
      return false;
    }
    for (Cidr cidr : proxyProtocolFrom) {
      if (cidr.contains(inet.getAddress())) {
        return true;
      }
    }
    return false;
  }
}
