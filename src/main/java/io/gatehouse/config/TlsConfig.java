package io.gatehouse.config;

import java.nio.file.Path;
import java.util.List;

/**
 * TLS termination on a listener: certificates (SNI picks by their names), ALPN protocols, the TLS
 * 1.2 cipher suites offered, in the server's order of preference, and the session-ticket key files
 * (empty: the TLS library's own keys, in memory).
 */
public record TlsConfig(List<CertificateConfig> certificates, List<String> alpn, List<String> ciphers,
    List<Path> sessionTicketKeys) {
  /** A session-ticket key file's size: a 16-byte name, a 16-byte AES key, a 16-byte HMAC key (nginx's 48-byte format). */
  public static final int TICKET_KEY_BYTES = 48;

  /**
   * Mozilla's "intermediate" TLS 1.2 suites without the DHE ones BoringSSL does not implement: ECDHE
   * key exchange (forward secrecy) and AEAD ciphers only, so no static-RSA key exchange (ROBOT-class
   * risks, no forward secrecy) and no CBC (Lucky13-class padding oracles) that TLS scanners flag.
   * Every browser and HTTP library of the last ten years has one of these; TLS 1.3 suites are not
   * configurable (BoringSSL offers AES-GCM and ChaCha20-Poly1305).
   */
  public static final List<String> DEFAULT_CIPHERS = List.of(
      "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
      "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
      "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305");

  public TlsConfig {
    certificates = List.copyOf(certificates);
    alpn = List.copyOf(alpn);
    ciphers = List.copyOf(ciphers);
    sessionTicketKeys = List.copyOf(sessionTicketKeys);
  }
}
