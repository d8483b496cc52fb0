package io.gatehouse.pool;

import io.gatehouse.config.HostPort;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.ssl.SslHandler;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/**
 * Puts TLS under the upstream pipeline: {@code upstream-tls -> upstream-codec -> upstream}. Writes
 * made before the handshake completes are held by the SslHandler; a failed handshake closes the
 * connection, which the exchange sees as a connect failure (502).
 */
final class TlsUpstreamInitializer extends ChannelInitializer<Channel> {
  private final UpstreamTls tls;
  private final HostPort address;
  private final ChannelHandler next;

  TlsUpstreamInitializer(UpstreamTls tls, HostPort address, ChannelHandler next) {
    this.tls = tls;
    this.address = address;
    this.next = next;
  }

  @Override
  protected void initChannel(Channel ch) {
    String name = tls.serverName() != null ? tls.serverName() : address.host();
    SslHandler handler = tls.context().newHandler(ch.alloc(), name, address.port());
    if (tls.verifyHostname()) {
      SSLEngine engine = handler.engine();
      SSLParameters params = engine.getSSLParameters();
      params.setEndpointIdentificationAlgorithm("HTTPS"); // RFC 9110 §4.3.4: the certificate must name the host
      engine.setSSLParameters(params);
    }
    ch.pipeline().addLast("upstream-tls", handler).addLast(next);
  }
}
