package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.TestCerts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Plain HTTP sent to a TLS listener gets a cleartext 400 saying so, then close (as nginx does),
 * instead of silence; TLS clients on the same listeners (one certificate, SNI with several, ALPN
 * h2) are unaffected.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class PlainHttpOnTlsPortTest {
  private TestCerts certs;
  private FakeUpstream upstream;
  private ProxyUnderTest proxy;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    certs = TestCerts.selfSigned(Files.createDirectory(dir.resolve("a")));
    TestCerts second = TestCerts.selfSigned(Files.createDirectory(dir.resolve("b")), TestCerts.KeyType.RSA);
    upstream = FakeUpstream.start("origin");
    proxy = ProxyUnderTest.start("""
        listeners:
          - { name: single, bind: 127.0.0.1:0, mode: reverse,
              tls: { certificates: [ { cert: "${CERT}", key: "${KEY}" } ] } }
          - { name: sni, bind: 127.0.0.1:0, mode: reverse,
              tls: { certificates: [ { cert: "${CERT}", key: "${KEY}" }, { cert: "${CERT2}", key: "${KEY2}" } ] } }
          - { name: h2, bind: 127.0.0.1:0, mode: reverse,
              tls: { certificates: [ { cert: "${CERT}", key: "${KEY}" } ], alpn: [h2, http/1.1] } }
        routes: [ { name: all, cluster: origin } ]
        clusters: [ { name: origin, endpoints: ["${ORIGIN}"] } ]
        """, Map.of("CERT", certs.certificate().toString(), "KEY", certs.privateKey().toString(),
        "CERT2", second.certificate().toString(), "KEY2", second.privateKey().toString(),
        "ORIGIN", upstream.address()));
  }

  @AfterAll
  void stop() {
    proxy.close();
    upstream.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"single", "sni", "h2"})
  void plain_http_gets_400_in_cleartext_then_close(String listener) throws Exception {
    long before = proxy.metrics().localReplies("malformed");
    String target = "/plain-" + listener;
    try (RawHttpClient client = RawHttpClient.connect(proxy.port(listener))) {
      client.send("GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(400);
      assertThat(response.bodyAsString()).contains("The plain HTTP request was sent to HTTPS port");
      assertThat(response.header("Connection")).isEqualToIgnoringCase("close");
      client.readAllUntilClose();
    }
    assertThat(proxy.metrics().localReplies("malformed")).isEqualTo(before + 1);
    assertThat(upstream.requests()).noneMatch(r -> r.uri().equals(target));
  }

  @ParameterizedTest
  @ValueSource(strings = {"single", "sni", "h2"})
  void tls_clients_are_unaffected(String listener) throws Exception {
    HttpClient client = HttpClient.newBuilder()
        .version(listener.equals("h2") ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1)
        .sslContext(certs.clientSslContext()).connectTimeout(Duration.ofSeconds(5)).build();
    URI uri = URI.create("https://localhost:" + proxy.port(listener) + "/tls");
    HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("origin");
    if (listener.equals("h2")) {
      assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
    }
  }
}
