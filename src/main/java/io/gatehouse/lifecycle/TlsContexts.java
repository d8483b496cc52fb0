package io.gatehouse.lifecycle;

import io.gatehouse.config.CertificateConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.listener.ServerTls;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.security.auth.x500.X500Principal;

/** Server TLS for listeners: BoringSSL when it loads, the JDK's TLS otherwise; TLS 1.2 and 1.3 only. */
final class TlsContexts {
  private static final int SAN_DNS = 2;

  private TlsContexts() {}

  static String providerName() {
    return OpenSsl.isAvailable() ? "openssl (" + OpenSsl.versionString() + ")" : "jdk";
  }

  /** Null for a plain-TCP listener. ALPN offers the configured protocols in their order. */
  static ServerTls forListener(ListenerConfig listener) throws IOException, CertificateException {
    if (listener.tls() == null || listener.tls().certificates().isEmpty()) {
      return null;
    }
    List<CertificateConfig> certs = listener.tls().certificates();
    List<String> alpn = listener.tls().alpn();
    boolean http2 = alpn.contains(ApplicationProtocolNames.HTTP_2);
    SslContext first = context(certs.get(0), alpn);
    if (certs.size() == 1) {
      return ServerTls.single(first, http2);
    }
    Map<String, SslContext> byName = new LinkedHashMap<>();
    for (CertificateConfig cert : certs) {
      SslContext context = cert == certs.get(0) ? first : context(cert, alpn);
      for (String name : names(cert)) {
        byName.putIfAbsent(name, context);
      }
    }
    return ServerTls.byServerName(first, byName, http2);
  }

  static SslContext context(CertificateConfig cert, List<String> alpn) throws IOException {
    SslContextBuilder builder = SslContextBuilder.forServer(cert.cert().toFile(), cert.key().toFile())
        .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
        .protocols("TLSv1.3", "TLSv1.2")
        .applicationProtocolConfig(new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            alpn));
    if (alpn.contains(ApplicationProtocolNames.HTTP_2)) {
      builder.ciphers(io.netty.handler.codec.http2.Http2SecurityUtil.CIPHERS,
          io.netty.handler.ssl.SupportedCipherSuiteFilter.INSTANCE); // RFC 9113 §9.2.2
    }
    return builder.build();
  }

  /** DNS names of the leaf certificate: its SANs, or its CN when it has none (legacy). */
  static List<String> names(CertificateConfig cert) throws IOException, CertificateException {
    X509Certificate leaf;
    try (InputStream in = Files.newInputStream(cert.cert())) {
      leaf = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    List<String> names = new java.util.ArrayList<>();
    Collection<List<?>> sans;
    try {
      sans = leaf.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      sans = null;
    }
    if (sans != null) {
      for (List<?> san : sans) {
        if (((Integer) san.get(0)) == SAN_DNS) {
          names.add(((String) san.get(1)).toLowerCase(Locale.ROOT));
        }
      }
    }
    if (names.isEmpty()) {
      String dn = leaf.getSubjectX500Principal().getName(X500Principal.RFC2253);
      for (String part : dn.split(",")) {
        if (part.startsWith("CN=")) {
          names.add(part.substring(3).toLowerCase(Locale.ROOT));
        }
      }
    }
    return names;
  }
}
