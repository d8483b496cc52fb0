package io.gatehouse.listener;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.DomainWildcardMappingBuilder;
import io.netty.util.Mapping;
import java.util.Map;

/**
 * TLS termination for one listener. With one certificate every handshake uses it; with several,
 * the client's SNI name picks the certificate whose names match (exact or {@code *.suffix}),
 * falling back to the first.
 */
public final class ServerTls {
  private final SslContext only;
  private final Mapping<String, SslContext> byName;
  private final boolean http2;

  private ServerTls(SslContext only, Mapping<String, SslContext> byName, boolean http2) {
    this.only = only;
    this.byName = byName;
    this.http2 = http2;
  }

  /** @param http2 whether the contexts offer {@code h2} over ALPN */
  public static ServerTls single(SslContext context, boolean http2) {
    return new ServerTls(context, null, http2);
  }

  /** @param byName certificate names (as in their SANs, wildcards allowed) to contexts */
  public static ServerTls byServerName(SslContext fallback, Map<String, SslContext> byName, boolean http2) {
    DomainWildcardMappingBuilder<SslContext> builder = new DomainWildcardMappingBuilder<>(fallback);
    byName.forEach(builder::add);
    return new ServerTls(null, builder.build(), http2);
  }

  boolean offersHttp2() {
    return http2;
  }

  ChannelHandler newHandler(Channel ch) {
    return only != null ? only.newHandler(ch.alloc()) : new SniHandler(byName);
  }
}
