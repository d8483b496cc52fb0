package io.gatehouse.lifecycle;

import io.gatehouse.config.UpstreamTlsConfig;
import io.gatehouse.pool.UpstreamTls;
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
  private final Map<UpstreamTlsConfig, UpstreamTls> cache = new ConcurrentHashMap<>();

  /** Null for a plain-HTTP cluster. */
  UpstreamTls forCluster(UpstreamTlsConfig config) {
    if (config == null) {
      return null;
    }
    return cache.computeIfAbsent(config, UpstreamTlsContexts::build);
  }

  private static UpstreamTls build(UpstreamTlsConfig config) {
    try {
      SslContextBuilder builder = SslContextBuilder.forClient()
          .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK);
      if (!config.verify()) {
        builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
      } else if (config.ca() != null) {
        builder.trustManager(config.ca().toFile());
      }
      return new UpstreamTls(builder.build(), config.sni(), config.verify());
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build upstream TLS context: " + e.getMessage(), e);
    }
  }
}
