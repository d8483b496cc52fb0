package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.TestCerts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** TLS at both ends of the proxy, split request heads, and rate limits, over real sockets. */
@Timeout(30)
class TlsAndRateLimitTest {
  @TempDir Path dir;

  private static GatehouseServer start(String yaml) throws Exception {
    return GatehouseServer.start(ConfigLoader.parse(yaml, "test.yaml", Map.of()));
  }

  @Test
  void terminatesTlsAndReEncryptsToATlsUpstream() throws Exception {
    TestCerts certs = TestCerts.selfSigned(dir);
    try (FakeUpstream origin = FakeUpstream.startTls("secure", certs)) {
      GatehouseServer proxy = start("""
          admin: { bind: 127.0.0.1:0 }
          listeners:
            - name: public
              bind: 127.0.0.1:0
              mode: reverse
              tls: { certificates: [ { cert: %s, key: %s } ] }
          routes: [ { name: all, cluster: secure } ]
          clusters:
            - { name: secure, endpoints: [ "%s" ], tls: { ca: %s, sni: localhost } }
          """.formatted(certs.certificate(), certs.privateKey(), origin.address(), certs.certificate()));
      try {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .sslContext(certs.clientSslContext()).connectTimeout(Duration.ofSeconds(5)).build();
        URI uri = URI.create("https://localhost:" + proxy.address("public").getPort() + "/hello");
        for (int i = 0; i < 3; i++) {
          HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri).build(),
              HttpResponse.BodyHandlers.ofString());
          assertThat(response.statusCode()).isEqualTo(200);
          assertThat(response.headers().firstValue("x-upstream")).contains("secure");
        }
        assertThat(origin.requests()).hasSize(3);
        assertThat(origin.connectionsAccepted()).as("TLS connections to the upstream are pooled").isEqualTo(1);
      } finally {
        proxy.close();
      }
    }
  }

  @Test
  void httpHealthChecksOfATlsClusterSpeakTls() throws Exception {
    TestCerts certs = TestCerts.selfSigned(dir);
    try (FakeUpstream origin = FakeUpstream.startTls("secure", certs)) {
      GatehouseServer proxy = start("""
          admin: { bind: 127.0.0.1:0 }
          listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
          routes: [ { name: all, cluster: secure } ]
          clusters:
            - name: secure
              endpoints: [ "%s" ]
              tls: { ca: %s, sni: localhost }
              healthCheck: { path: /healthz, interval: 200ms, timeout: 200ms, rise: 1, fall: 1 }
          """.formatted(origin.address(), certs.certificate()));
      try {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
            origin.requests()).as("a probe arrived over TLS").anyMatch(r -> r.uri().equals("/healthz")));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
            assertThat(proxy.endpointAdmin().endpoints("secure").get(0).health())
                .isEqualTo(io.gatehouse.upstream.Health.UP));
        try (RawHttpClient client = RawHttpClient.connect(proxy.address("web").getPort())) {
          assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
        }
      } finally {
        proxy.close();
      }
    }
  }

  @Test
  void upstreamCertificateForAnotherNameIsRefused() throws Exception {
    TestCerts certs = TestCerts.selfSigned(dir);
    try (FakeUpstream origin = FakeUpstream.startTls("secure", certs)) {
      GatehouseServer proxy = start("""
          admin: { bind: 127.0.0.1:0 }
          listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
          routes: [ { name: all, cluster: secure } ]
          clusters:
            - { name: secure, endpoints: [ "%s" ], tls: { ca: %s, sni: other.example } }
          """.formatted(origin.address(), certs.certificate()));
      try (RawHttpClient client = RawHttpClient.connect(proxy.address("web").getPort())) {
        RawResponse response = client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
        assertThat(response.status()).isEqualTo(502);
        assertThat(origin.requests()).isEmpty();
      } finally {
        proxy.close();
      }
    }
  }

  @Test
  void requestHeadSplitAcrossPacketsIsServed() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("a")) {
      GatehouseServer proxy = start("""
          admin: { bind: 127.0.0.1:0 }
          listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
          routes: [ { name: all, cluster: c } ]
          clusters: [ { name: c, endpoints: [ "%s" ] } ]
          """.formatted(origin.address()));
      try (RawHttpClient client = RawHttpClient.connect(proxy.address("web").getPort())) {
        client.send("GET /split HTTP/1.1\r\nHo");
        client.socket().getOutputStream().flush();
        Thread.sleep(100); // two TCP segments, not one: the point of the test
        client.send("st: a\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(200);
        client.send("GET /second HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(200);
      } finally {
        proxy.close();
      }
    }
  }

  @Test
  void routeRateLimitAnswers429WithRetryAfter() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("a")) {
      GatehouseServer proxy = start("""
          admin: { bind: 127.0.0.1:0 }
          listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
          routes: [ { name: all, cluster: c, rateLimit: { key: clientIp, perSecond: 0.5, burst: 2 } } ]
          clusters: [ { name: c, endpoints: [ "%s" ] } ]
          """.formatted(origin.address()));
      try (RawHttpClient client = RawHttpClient.connect(proxy.address("web").getPort())) {
        for (int i = 0; i < 2; i++) {
          assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
        }
        RawResponse limited = client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
        assertThat(limited.status()).isEqualTo(429);
        assertThat(Integer.parseInt(limited.header("retry-after"))).isBetween(1, 2);
        assertThat(origin.requests()).hasSize(2);
        assertThat(proxy.metrics().localReplies("rate_limited")).isEqualTo(1);
      } finally {
        proxy.close();
      }
    }
  }

  @Test
  void perClientRateLimitAppliesAcrossConnections() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("a")) {
      GatehouseServer proxy = start("""
          admin: { bind: 127.0.0.1:0 }
          limits: { perClient: { requestsPerSecond: 0.5, burst: 1 } }
          listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
          routes: [ { name: all, cluster: c } ]
          clusters: [ { name: c, endpoints: [ "%s" ] } ]
          """.formatted(origin.address()));
      int port = proxy.address("web").getPort();
      try (RawHttpClient first = RawHttpClient.connect(port); RawHttpClient second = RawHttpClient.connect(port)) {
        assertThat(first.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
        assertThat(second.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(429);
      } finally {
        proxy.close();
      }
    }
  }
}
