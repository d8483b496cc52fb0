package io.gatehouse.lifecycle;

import io.gatehouse.config.CertificateConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.config.TlsConfig;
import io.gatehouse.listener.ServerTls;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.CipherSuiteConverter;
import io.netty.handler.ssl.IdentityCipherSuiteFilter;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLContext;
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
    // Read once for all the listener's certificates, and named in the error when they are the cause.
    List<String> suites;
    List<OpenSslSessionTicketKey> ticketKeys;
    try {
      suites = ciphers(listener.tls().ciphers(), http2);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("listener " + listener.name() + ": tls.ciphers: " + e.getMessage(), e);
    }
    try {
      ticketKeys = ticketKeys(listener.tls().sessionTicketKeys());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("listener " + listener.name() + ": tls.sessionTicketKeys: " + e.getMessage(), e);
    }
    SslContext first = context(certs.get(0), alpn, suites, ticketKeys);
    if (certs.size() == 1) {
      return ServerTls.single(first, http2);
    }
    Map<String, SslContext> byName = new LinkedHashMap<>();
    for (CertificateConfig cert : certs) {
      SslContext context = cert == certs.get(0) ? first : context(cert, alpn, suites, ticketKeys);
      for (String name : names(cert)) {
        byName.putIfAbsent(name, context);
      }
    }
    return ServerTls.byServerName(first, byName, http2);
  }

  /**
   * One certificate's context, with the listener's ALPN protocols, its TLS 1.2 suites ({@link
   * #ciphers}) and ticket keys ({@link #ticketKeys}), computed once per listener (also {@code gatehouse
   * check}'s test of a key).
   */
  static SslContext context(CertificateConfig cert, List<String> alpn, List<String> suites,
      List<OpenSslSessionTicketKey> ticketKeys) throws IOException {
    SslContext context = SslContextBuilder.forServer(cert.cert().toFile(), cert.key().toFile())
        .sslProvider(OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK)
        .protocols("TLSv1.3", "TLSv1.2")
        .ciphers(suites, IdentityCipherSuiteFilter.INSTANCE)
        .applicationProtocolConfig(new ApplicationProtocolConfig(
            ApplicationProtocolConfig.Protocol.ALPN,
            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
            alpn))
        .build();
    if (!ticketKeys.isEmpty()) {
      ((OpenSslSessionContext) context.sessionContext()).setTicketKeys(ticketKeys.toArray(OpenSslSessionTicketKey[]::new));
    }
    return context;
  }

  /**
   * The session-ticket keys of {@code files}, the first to encrypt new tickets and all to decrypt
   * (so a key can be rotated in without ending the sessions of the one before). Each file is nginx's
   * 48-byte format (HAProxy's too): a 16-byte key name, a 16-byte AES key, a 16-byte HMAC key. An
   * IllegalArgumentException names a file of another size, or keys without BoringSSL (the JDK's TLS
   * takes none).
   */
  static List<OpenSslSessionTicketKey> ticketKeys(List<Path> files) throws IOException {
    if (files.isEmpty()) {
      return List.of();
    }
    if (!OpenSsl.isAvailable()) {
      throw new IllegalArgumentException("session-ticket keys need BoringSSL, which did not load here ("
          + "expected: no sessionTicketKeys with the JDK's TLS)");
    }
    List<OpenSslSessionTicketKey> keys = new ArrayList<>();
    for (Path file : files) {
      byte[] bytes = Files.readAllBytes(file);
      if (bytes.length != TlsConfig.TICKET_KEY_BYTES) {
        throw new IllegalArgumentException(file + " has " + bytes.length + " bytes (expected: "
            + TlsConfig.TICKET_KEY_BYTES + ")");
      }
      keys.add(new OpenSslSessionTicketKey(Arrays.copyOfRange(bytes, 0, 16), Arrays.copyOfRange(bytes, 32, 48),
          Arrays.copyOfRange(bytes, 16, 32)));
    }
    return keys;
  }

  /** TLS 1.3's suites, always offered: BoringSSL chooses among them itself (not configurable). */
  private static final List<String> TLS13_SUITES =
      List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256");

  /**
   * What the TLS library is given: the configured TLS 1.2 suites in their order, by IANA name, then
   * TLS 1.3's. An IllegalArgumentException names a suite the library does not have, a TLS 1.3 one,
   * and on a listener offering h2 one that HTTP/2 forbids (RFC 9113 §9.2.2: ephemeral key exchange
   * and an AEAD cipher only; a client may end such a connection with INADEQUATE_SECURITY).
   */
  static List<String> ciphers(List<String> configured, boolean http2) {
    Set<String> available = OpenSsl.isAvailable() ? OpenSsl.availableJavaCipherSuites() : jdkCipherSuites();
    List<String> names = new ArrayList<>();
    for (String name : configured) {
      String iana = name.startsWith("TLS_") ? name : CipherSuiteConverter.toJava(name, "TLS");
      if (TLS13_SUITES.contains(iana)) {
        throw new IllegalArgumentException("'" + name + "' is a TLS 1.3 suite (expected: TLS 1.2 suites; TLS 1.3's are"
            + " always offered and not configurable)");
      }
      if (iana == null || !available.contains(iana)) {
        throw new IllegalArgumentException("'" + name + "' is not a TLS 1.2 cipher suite that " + providerName()
            + " has (expected: OpenSSL or IANA names such as ECDHE-RSA-AES128-GCM-SHA256)");
      }
      boolean ephemeral = iana.contains("_ECDHE_") || iana.startsWith("TLS_DHE_");
      boolean aead = iana.contains("_GCM_") || iana.contains("_CHACHA20_") || iana.endsWith("_CCM");
      if (http2 && !(ephemeral && aead)) {
        throw new IllegalArgumentException("'" + name + "' is not allowed with h2 (RFC 9113 §9.2.2: ECDHE or DHE"
            + " with an AEAD cipher; expected: such a suite, or h2 left out of alpn)");
      }
      names.add(iana);
    }
    names.addAll(TLS13_SUITES);
    return names;
  }

  private static Set<String> jdkCipherSuites() {
    try {
      return Set.of(SSLContext.getDefault().getSupportedSSLParameters().getCipherSuites());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no default TLS context", e);
    }
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
