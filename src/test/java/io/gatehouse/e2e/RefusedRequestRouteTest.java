package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Requests refused by a limit (429, 413, 431) are counted and logged with the route they were
 * headed for whenever the head says it, so a route's dashboards show what it refused.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RefusedRequestRouteTest {
  private FakeUpstream upstream;
  private ProxyUnderTest proxy;

  @BeforeEach
  void start() throws Exception {
    upstream = FakeUpstream.start("origin");
    proxy = ProxyUnderTest.start("""
        limits: { maxBodyBytes: 100, maxHeaderBytes: 1KiB }
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes:
          - { name: api, cluster: origin, match: { host: a.example, pathPrefix: /api/ } }
          - { name: limited, cluster: origin, match: { pathPrefix: /limited/ }, rateLimit: { perSecond: 0.01, burst: 1 } }
        clusters: [ { name: origin, endpoints: ["${ORIGIN}"] } ]
        """, Map.of("ORIGIN", upstream.address()));
  }

  @AfterEach
  void stop() {
    proxy.close();
    upstream.close();
  }

  private int send(String request) throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      return client.send(request).readResponse().status();
    }
  }

  @Test
  void a429FromARoutesRateLimitNamesTheRoute() throws Exception {
    assertThat(send("GET /limited/1 HTTP/1.1\r\nHost: b\r\n\r\n")).isEqualTo(200);
    assertThat(send("GET /limited/2 HTTP/1.1\r\nHost: b\r\n\r\n")).isEqualTo(429);
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.metrics().requests("web", "limited", "", 429) == 1);
  }

  @Test
  void a413ForADeclaredLengthNamesTheRoute() throws Exception {
    assertThat(send("POST /api/upload HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5000\r\n\r\n")).isEqualTo(413);
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.metrics().requests("web", "api", "", 413) == 1);
  }

  @Test
  void a431NamesTheRouteWhenHostCameBeforeTheLimitAndNoneOtherwise() throws Exception {
    String big = "X-Big: " + "x".repeat(2048) + "\r\n";
    // Netty's decoder keeps a field once the next one starts, so Host must not be the last one read.
    assertThat(send("GET /api/x HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\n" + big + "\r\n")).isEqualTo(431);
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.metrics().requests("web", "api", "", 431) == 1);

    assertThat(send("GET /api/x HTTP/1.1\r\n" + big + "Host: a.example\r\n\r\n")).isEqualTo(431);
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.metrics().requests("web", "", "", 431) == 1);
  }
}
