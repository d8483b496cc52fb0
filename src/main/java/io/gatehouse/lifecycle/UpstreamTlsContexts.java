package io.gatehouse.lifecycle;

import io.gatehouse.config.UpstreamTlsConfig;
import io.gatehouse.pool.UpstreamTls;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLException;

/**
 * Client TLS contexts for clusters that re-encrypt to their endpoints. One context per distinct
 * setting, kept across reloads so pooled connections (keyed by it) stay usable.
 */
final class UpstreamTlsContexts {
  private final Map<Key, UpstreamTls> cache = new ConcurrentHashMap<>();

  private record Key(UpstreamTlsConfig config, boolean http2) {}

  /**
   * Null for a plain-HTTP cluster; {@code http2} offers ALPN {@code h2} alone (RFC 9113 §3.2), which
   * the endpoint must choose.
   */
  UpstreamTls forCluster(UpstreamTlsConfig config, boolean http2) {
    if (config == null) {
      return null;
    }
    return cache.computeIfAbsent(new Key(config, http2), key -> build(key.config(), key.http2()));
  }

  private static UpstreamTls build(UpstreamTlsConfig config, boolean http2) {
    try {
      SslContextBuilder builder = SslContextBuilder.forClient()
          .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK);
      if (!config.verify()) {
        builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
      } else if (config.ca() != null) {
        builder.trustManager(config.ca().toFile());
      }
      if (http2) {
        builder.applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, ApplicationProtocolNames.HTTP_2));
      }
      return new UpstreamTls(builder.build(), config.sni(), config.verify());
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build upstream TLS context: " + e.getMessage(), e);
    }
  }
}
