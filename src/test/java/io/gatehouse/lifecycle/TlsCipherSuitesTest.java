package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.TestCerts;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TLS 1.2 cipher suites a listener offers (`tls.ciphers`), seen by a real TLS client that offers
 * exactly the suites a test names: forward-secret AEAD suites only by default, in the server's order;
 * a configured list replaces them; names the TLS library lacks, TLS 1.3 suites and suites HTTP/2
 * forbids on an h2 listener are config problems.
 */
@Timeout(30)
class TlsCipherSuitesTest {
  @TempDir Path dir;

  private static final String ECDHE_AES128_GCM = "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
  private static final String ECDHE_AES256_GCM = "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384";
  private static final String ECDHE_CHACHA20 = "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256";
  private static final String ECDHE_AES256_CBC = "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA";
  private static final String RSA_AES128_GCM = "TLS_RSA_WITH_AES_128_GCM_SHA256";
  private static final String RSA_AES128_CBC = "TLS_RSA_WITH_AES_128_CBC_SHA";

  @Test
  void byDefaultOnlyForwardSecretAeadSuitesInTheServersOrder() throws Exception {
    TestCerts certs = TestCerts.selfSigned(dir, TestCerts.KeyType.RSA);
    try (FakeUpstream origin = FakeUpstream.start("app")) {
      GatehouseServer proxy = start(certs, origin, "");
      try {
        InetSocketAddress at = proxy.address("public");
        for (String suite : List.of(ECDHE_AES128_GCM, ECDHE_AES256_GCM, ECDHE_CHACHA20)) {
          assertThat(handshake(certs, at, "TLSv1.2", suite)).as(suite).isEqualTo(suite);
        }
        for (String suite : List.of(RSA_AES128_GCM, RSA_AES128_CBC, ECDHE_AES256_CBC)) {
          assertThatThrownBy(() -> handshake(certs, at, "TLSv1.2", suite)).as(suite).isInstanceOf(SSLException.class);
        }
        assertThat(handshake(certs, at, "TLSv1.2", ECDHE_AES256_GCM, ECDHE_AES128_GCM))
            .as("the server's order, not the client's").isEqualTo(ECDHE_AES128_GCM);
        assertThat(handshake(certs, at, "TLSv1.3", "TLS_AES_128_GCM_SHA256")).isEqualTo("TLS_AES_128_GCM_SHA256");
        assertThat(get(certs, at)).as("a request over the negotiated connection").startsWith("HTTP/1.1 200");
      } finally {
        proxy.close();
      }
    }
  }

  @Test
  void aConfiguredListReplacesTheDefaultsInItsOrderWithOpenSslOrIanaNames() throws Exception {
    TestCerts certs = TestCerts.selfSigned(dir, TestCerts.KeyType.RSA);
    try (FakeUpstream origin = FakeUpstream.start("app")) {
      GatehouseServer proxy = start(certs, origin, ", ciphers: [ECDHE-RSA-AES256-SHA, " + ECDHE_AES256_GCM + "]");
      try {
        InetSocketAddress at = proxy.address("public");
        assertThat(handshake(certs, at, "TLSv1.2", ECDHE_AES256_GCM, ECDHE_AES256_CBC)).isEqualTo(ECDHE_AES256_CBC);
        assertThatThrownBy(() -> handshake(certs, at, "TLSv1.2", ECDHE_AES128_GCM)).isInstanceOf(SSLException.class);
        assertThat(handshake(certs, at, "TLSv1.3", "TLS_AES_256_GCM_SHA384")).isEqualTo("TLS_AES_256_GCM_SHA384");
      } finally {
        proxy.close();
      }
    }
  }

  @Test
  void suitesTheLibraryLacksTls13SuitesAndSuitesHttp2ForbidsAreConfigProblems() throws Exception {
    TestCerts certs = TestCerts.selfSigned(dir, TestCerts.KeyType.RSA);
    String yaml = """
        listeners:
          - { name: a, bind: "127.0.0.1:0", mode: reverse, tls: { certificates: [ { cert: %1$s, key: %2$s } ], ciphers: [ECDHE-RSA-ROT13-SHA] } }
          - { name: b, bind: "127.0.0.1:0", mode: reverse, tls: { certificates: [ { cert: %1$s, key: %2$s } ], ciphers: [TLS_AES_128_GCM_SHA256] } }
          - { name: c, bind: "127.0.0.1:0", mode: reverse, tls: { certificates: [ { cert: %1$s, key: %2$s } ], alpn: [h2, http/1.1], ciphers: [ECDHE-RSA-AES128-SHA] } }
          - { name: d, bind: "127.0.0.1:0", mode: reverse, tls: { certificates: [ { cert: %1$s, key: %2$s } ], alpn: [http/1.1], ciphers: [ECDHE-RSA-AES128-SHA] } }
        routes: [ { name: all, cluster: app } ]
        clusters: [ { name: app, endpoints: [ "127.0.0.1:9" ] } ]
        """.formatted(certs.certificate(), certs.privateKey());
    GatehouseConfig config = ConfigLoader.parse(yaml, "test.yaml", Map.of());
    List<String> problems = new ArrayList<>();
    StartupChecks.tls(config, (path, message) -> problems.add(path + ": " + message));
    assertThat(problems).hasSize(3);
    assertThat(problems.get(0)).startsWith("listeners[0].tls.ciphers: 'ECDHE-RSA-ROT13-SHA' is not a TLS 1.2 cipher suite that ");
    assertThat(problems.get(1)).startsWith("listeners[1].tls.ciphers: 'TLS_AES_128_GCM_SHA256' is a TLS 1.3 suite");
    assertThat(problems.get(2)).startsWith("listeners[2].tls.ciphers: 'ECDHE-RSA-AES128-SHA' is not allowed with h2 (RFC 9113 §9.2.2");
    assertThatThrownBy(() -> GatehouseServer.start(config)).hasMessageContaining("listener a: tls.ciphers: 'ECDHE-RSA-ROT13-SHA'");
  }

  private GatehouseServer start(TestCerts certs, FakeUpstream origin, String ciphers) throws Exception {
    return GatehouseServer.start(ConfigLoader.parse("""
        admin: { bind: 127.0.0.1:0 }
        listeners:
          - { name: public, bind: 127.0.0.1:0, mode: reverse, tls: { certificates: [ { cert: %s, key: %s } ]%s } }
        routes: [ { name: all, cluster: app } ]
        clusters: [ { name: app, endpoints: [ "%s" ] } ]
        """.formatted(certs.certificate(), certs.privateKey(), ciphers, origin.address()), "test.yaml", Map.of()));
  }

  /** The suite the server chose when the client offers exactly {@code suites} in {@code protocol}. */
  private static String handshake(TestCerts certs, InetSocketAddress at, String protocol, String... suites) throws IOException {
    try (SSLSocket socket = socket(certs, at)) {
      socket.setEnabledProtocols(new String[] {protocol});
      socket.setEnabledCipherSuites(suites);
      socket.startHandshake();
      return socket.getSession().getCipherSuite();
    }
  }

  private static String get(TestCerts certs, InetSocketAddress at) throws IOException {
    try (SSLSocket socket = socket(certs, at)) {
      socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }

  private static SSLSocket socket(TestCerts certs, InetSocketAddress at) throws IOException {
    SSLSocket socket = (SSLSocket) certs.clientSslContext().getSocketFactory().createSocket("localhost", at.getPort());
    socket.setSoTimeout(10_000);
    return socket;
  }
}
