package io.gatehouse.config;

import java.nio.file.Path;
import java.util.List;

/** Binds one entry of {@code listeners}, with its {@code tls}, {@code headers} and {@code http2} blocks. */
final class ListenerBinder {
  static final List<String> KEYS = List.of("name", "bind", "mode", "forward", "tls", "headers", "http2", "drainTimeout",
      "proxyProtocol");
  private static final List<String> ALPN = List.of("h2", "http/1.1");

  private ListenerBinder() {}

  static ListenerConfig bind(YamlNode node, String path, Problems problems, Path baseDir) {
    Section s = Section.of(node, path, problems, baseDir, KEYS);
    String name = s.requiredString("name", "a listener name");
    HostPort bind = null;
    if (s.has("bind")) {
      bind = Addresses.hostPort(s.get("bind"), s.path("bind"), problems, 0);
    } else {
      s.missing("bind", "host:port");
    }
    ListenerMode mode = s.choice("mode", null, ListenerMode.class);
    if (mode == null && !s.has("mode")) {
      s.missing("mode", "forward or reverse");
    }
    ForwardConfig forward = null;
    Section f = s.section("forward", ForwardBinder.KEYS);
    if (f != null) {
      forward = ForwardBinder.bind(f);
      if (mode == ListenerMode.REVERSE) {
        s.problem("forward", "only allowed on forward listeners (this one has mode: reverse)");
      }
    }
    if (mode == ListenerMode.FORWARD && forward == null) {
      forward = ForwardBinder.DEFAULT;
    }
    if (mode == ListenerMode.REVERSE) {
      forward = null;
    }
    TlsConfig tls = tls(s.section("tls", List.of("certificates", "alpn", "ciphers", "sessionTicketKeys")));
    return new ListenerConfig(name, bind, mode, forward, tls,
        headers(s.section("headers", List.of("xForwarded", "forwarded", "via"))),
        http2(s.section("http2", List.of("cleartext")), mode, tls != null),
        s.durationOrZero("drainTimeout", null),
        proxyProtocol(s.section("proxyProtocol", List.of("trustedFrom"))));
  }

  /** {@code proxyProtocol: {trustedFrom: [CIDR, ...]}}: who may state a client address. */
  private static ProxyProtocolConfig proxyProtocol(Section s) {
    if (s == null) {
      return null;
    }
    int[] given = {0};
    List<String> trusted = s.items("trustedFrom", List.of(), (n, p) -> {
      given[0]++;
      String v = Values.text(n, p, s.problems(), "an IP address or CIDR block");
      String problem = v == null ? null : Addresses.cidrProblem(v.strip());
      if (problem != null) {
        s.problems().add(n.pos(), p, problem);
        return null;
      }
      return v == null ? null : v.strip();
    });
    if (trusted.isEmpty()) {
      if (given[0] > 0) {
        return null; // each bad entry was reported
      }
      if (s.has("trustedFrom")) {
        s.problem("trustedFrom", "empty (expected: the balancers' addresses, such as 10.0.0.0/8 or 192.168.1.7)");
      } else {
        s.missing("trustedFrom", "a list of the balancers' IP addresses or CIDR blocks");
      }
      return null;
    }
    return new ProxyProtocolConfig(trusted);
  }

  private static Http2Config http2(Section s, ListenerMode mode, boolean tls) {
    if (s == null) {
      return Http2Config.DEFAULT;
    }
    Http2Config h2 = new Http2Config(s.bool("cleartext", Http2Config.DEFAULT.cleartext()));
    if (h2.cleartext() && tls) {
      s.problem("cleartext", "true on a TLS listener (expected: offer h2 through tls.alpn instead)");
    }
    if (h2.cleartext() && mode == ListenerMode.FORWARD) {
      // A forward proxy offers HTTP/2 over TLS (tls.alpn), as proxy clients ask for it (curl
      // --proxy-http2); prior knowledge in cleartext is for internal hops in front of origins.
      s.problem("cleartext", "true on a forward listener (expected: only on reverse listeners)");
    }
    return h2;
  }

  private static final java.util.regex.Pattern CIPHER_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9_-]{1,100}");
  private static final String CIPHER_EXPECTED =
      "TLS 1.2 cipher suites by OpenSSL or IANA name, such as ECDHE-RSA-AES128-GCM-SHA256";

  private static TlsConfig tls(Section s) {
    if (s == null) {
      return null;
    }
    List<CertificateConfig> certs = s.items("certificates", List.of(), (n, p) -> {
      Section c = Section.of(n, p, s.problems(), s.baseDir(), List.of("cert", "key"));
      return new CertificateConfig(c.file("cert", "a PEM certificate chain"), c.file("key", "a PEM private key"));
    });
    if (certs.isEmpty()) {
      if (s.has("certificates")) {
        s.problem("certificates", "empty (expected: at least one {cert, key})");
      } else {
        s.missing("certificates", "a list of {cert, key}");
      }
    }
    List<String> alpn = s.items("alpn", List.of("http/1.1"), (n, p) -> {
      String v = Values.text(n, p, s.problems(), "h2 or http/1.1");
      if (v != null && !ALPN.contains(v)) {
        s.problems().add(n.pos(), p, "'" + v + "' (expected one of: h2, http/1.1)");
        return null;
      }
      return v;
    });
    if (alpn.isEmpty() && s.has("alpn")) {
      s.problem("alpn", "empty (expected: h2, http/1.1 or both)");
    } else {
      listedOnce(s, "alpn", alpn, "a protocol");
    }
    return new TlsConfig(certs, alpn, ciphers(s), ticketKeys(s));
  }

  /** Reports {@code key} when an item of {@code items} appears twice. */
  private static void listedOnce(Section s, String key, List<?> items, String what) {
    if (items.stream().distinct().count() != items.size()) {
      s.problem(key, what + " is listed twice (expected: each at most once)");
    }
  }

  /** Files of {@value TlsConfig#TICKET_KEY_BYTES} bytes each; the first encrypts new tickets, all decrypt. */
  private static List<java.nio.file.Path> ticketKeys(Section s) {
    String expected = "files of " + TlsConfig.TICKET_KEY_BYTES + " random bytes, such as made by openssl rand "
        + TlsConfig.TICKET_KEY_BYTES;
    List<java.nio.file.Path> keys = s.items("sessionTicketKeys", List.of(), (n, p) -> {
      String v = Values.text(n, p, s.problems(), expected);
      if (v == null) {
        return null;
      }
      java.nio.file.Path file = s.baseDir().resolve(v).normalize();
      try {
        long size = java.nio.file.Files.size(file);
        if (!java.nio.file.Files.isRegularFile(file) || size != TlsConfig.TICKET_KEY_BYTES) {
          s.problems().add(n.pos(), p, file + " has " + size + " bytes (expected: " + expected + ")");
          return null;
        }
      } catch (java.io.IOException e) {
        s.problems().add(n.pos(), p, "file not found: " + file + " (expected: " + expected + ")");
        return null;
      }
      return file;
    });
    listedOnce(s, "sessionTicketKeys", keys, "a file");
    return keys;
  }

  /**
   * TLS 1.2 suites by OpenSSL or IANA name; whether the TLS library has each is checked where it is
   * loaded (lifecycle's TlsContexts, and {@code gatehouse check}).
   */
  private static List<String> ciphers(Section s) {
    boolean[] invalid = {false};
    List<String> ciphers = s.items("ciphers", TlsConfig.DEFAULT_CIPHERS, (n, p) -> {
      String v = Values.text(n, p, s.problems(), CIPHER_EXPECTED);
      if (v != null && !CIPHER_NAME.matcher(v).matches()) {
        s.problems().add(n.pos(), p, "'" + v + "' (expected: " + CIPHER_EXPECTED + ")");
        v = null;
      }
      invalid[0] |= v == null;
      return v;
    });
    if (ciphers.isEmpty() && s.has("ciphers") && !invalid[0]) {
      s.problem("ciphers", "empty (expected: " + CIPHER_EXPECTED + ")");
    } else {
      listedOnce(s, "ciphers", ciphers, "a cipher suite");
    }
    return ciphers;
  }

  private static ForwardedHeadersConfig headers(Section s) {
    ForwardedHeadersConfig d = ForwardedHeadersConfig.DEFAULT;
    if (s == null) {
      return d;
    }
    return new ForwardedHeadersConfig(
        s.bool("xForwarded", d.xForwarded()), s.bool("forwarded", d.forwarded()), s.bool("via", d.via()));
  }
}
