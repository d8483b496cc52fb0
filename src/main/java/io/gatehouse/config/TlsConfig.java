package io.gatehouse.config;

import java.util.List;

/** TLS termination on a listener: certificates (SNI picks by their names) and ALPN protocols. */
public record TlsConfig(List<CertificateConfig> certificates, List<String> alpn) {
  public TlsConfig {
    certificates = List.copyOf(certificates);
    alpn = List.copyOf(alpn);
  }
}
