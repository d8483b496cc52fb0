package io.gatehouse.lifecycle;

import io.gatehouse.config.CertificateConfig;
import io.gatehouse.config.ListenerConfig;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import javax.net.ssl.SSLException;

/** Server TLS contexts for listeners: BoringSSL when it loads, the JDK's TLS otherwise. */
final class TlsContexts {
  private TlsContexts() {}

  static String providerName() {
    return OpenSsl.isAvailable() ? "openssl (" + OpenSsl.versionString() + ")" : "jdk";
  }

  /** Null for a plain-TCP listener. Only HTTP/1.1 is offered over ALPN for now. */
  static SslContext forListener(ListenerConfig listener) throws SSLException {
    if (listener.tls() == null || listener.tls().certificates().isEmpty()) {
      return null;
    }
    CertificateConfig cert = listener.tls().certificates().get(0);
    return SslContextBuilder.forServer(cert.cert().toFile(), cert.key().toFile())
        .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
        .applicationProtocolConfig(new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            ApplicationProtocolNames.HTTP_1_1))
        .build();
  }
}
