package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.Reply;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The upstream keep-alive pool: connections are reused, and an upstream closing idle pooled
 * connections never costs a client an error (the request is replayed on a fresh connection).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PoolSafetyTest {
  private FakeUpstream upstream;
  private ProxyUnderTest proxy;

  @BeforeEach
  void start() throws Exception {
    upstream = FakeUpstream.start("origin");
    proxy = ProxyUnderTest.start("""
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes: [ { name: all, cluster: origin } ]
        clusters: [ { name: origin, endpoints: ["${ORIGIN}"], pool: { maxConnections: 8 } } ]
        limits: { maxBodyBytes: 1MiB }
        """, Map.of("ORIGIN", upstream.address()));
  }

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    upstream.close();
  }

  @Test
  void sequential_requests_reuse_one_upstream_connection() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      for (int i = 0; i < 50; i++) {
        client.send("GET /" + i + " HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(200);
      }
    }
    assertThat(upstream.requests()).hasSize(50);
    assertThat(upstream.connectionsAccepted()).isEqualTo(1);
  }

  @Test
  void new_client_connections_share_pooled_upstream_connections() throws Exception {
    for (int i = 0; i < 20; i++) {
      assertThat(proxy.get("a", "/" + i).status()).isEqualTo(200);
    }
    // one pool per event loop: at most one connection per loop for sequential traffic
    assertThat(upstream.connectionsAccepted()).isLessThanOrEqualTo(Runtime.getRuntime().availableProcessors());
  }

  @Test
  void request_on_a_reused_connection_that_the_upstream_closed_is_replayed_on_a_fresh_one() throws Exception {
    // The second request meets a pooled connection that the upstream closes without answering,
    // exactly the race with an origin's keep-alive timeout.
    upstream.respondInOrder(Reply.ok().body("first"), Reply.close(), Reply.ok().body("replayed"));
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(client.readResponse().bodyAsString()).isEqualTo("first");
      client.send("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
      RawResponse second = client.readResponse();
      assertThat(second.status()).isEqualTo(200);
      assertThat(second.bodyAsString()).isEqualTo("replayed");
    }
    assertThat(upstream.connectionsAccepted()).isEqualTo(2);
    assertThat(upstream.requests()).extracting(r -> r.uri()).containsExactly("/1", "/2", "/2");
  }

  @Test
  void request_body_is_replayed_too() throws Exception {
    upstream.respondInOrder(Reply.ok().body("first"), Reply.close().early(), Reply.ok().body("replayed"));
    String body = "x".repeat(20_000);
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(client.readResponse().bodyAsString()).isEqualTo("first");
      client.send("POST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
      RawResponse second = client.readResponse();
      assertThat(second.status()).isEqualTo(200);
      assertThat(second.bodyAsString()).isEqualTo("replayed");
    }
    RecordedRequest replayed = upstream.lastRequest();
    assertThat(replayed.uri()).isEqualTo("/2");
    assertThat(replayed.complete()).isTrue();
    assertThat(replayed.bodyAsString()).isEqualTo(body);
  }

  @Test
  void fresh_connection_closed_without_answer_is_a_502_not_a_loop() throws Exception {
    upstream.respond(head -> Reply.close());
    assertThat(proxy.get("a", "/").status()).isEqualTo(502);
    assertThat(upstream.connectionsAccepted()).as("no retry budget configured").isEqualTo(1);
  }

  @Test
  void idle_connections_closed_by_the_upstream_are_never_a_client_error() throws Exception {
    int requests = 200;
    try (RawHttpClient client = proxy.connect()) {
      for (int i = 0; i < requests; i++) {
        String body = "payload " + i;
        String request = i % 2 == 0
            ? "GET /" + i + " HTTP/1.1\r\nHost: a\r\n\r\n"
            : "POST /" + i + " HTTP/1.1\r\nHost: a\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
        client.send(request);
        RawResponse response = client.readResponse();
        assertThat(response.status()).as("request %d", i).isEqualTo(200);
        upstream.closeIdleConnections(); // races the proxy's next use of the pooled connection
      }
    }
    assertThat(upstream.requests()).filteredOn(r -> r.complete()).hasSize(requests);
    assertThat(upstream.connectionsAccepted()).as("the upstream really closed them").isGreaterThan(requests / 2);
    assertThat(proxy.metrics().localReplies("upstream_reset")).isZero();
  }

  @Test
  void upstream_keep_alive_timeout_races_concurrent_clients_without_errors() throws Exception {
    upstream.setKeepAliveTimeout(Duration.ofMillis(2));
    upstream.respond(head -> Reply.ok());
    HttpClient http = ProxyUnderTest.httpClient();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<List<Integer>>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        results.add(pool.submit(() -> {
          List<Integer> statuses = new ArrayList<>();
          for (int i = 0; i < 60; i++) {
            HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(proxy.uri("/k" + i)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
            statuses.add(response.statusCode());
          }
          return statuses;
        }));
      }
      for (Future<List<Integer>> result : results) {
        assertThat(result.get(50, TimeUnit.SECONDS)).containsOnly(200);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(proxy.metrics().localReplies("upstream_reset")).isZero();
  }

  @Test
  void reuse_without_closes_keeps_connections_few_under_concurrency() throws Exception {
    HttpClient http = ProxyUnderTest.httpClient();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        results.add(pool.submit(() -> {
          for (int i = 0; i < 50; i++) {
            HttpResponse<String> response = http.send(
                HttpRequest.newBuilder(proxy.uri("/c" + i)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(200);
          }
          return null;
        }));
      }
      for (Future<?> result : results) {
        result.get(50, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(upstream.requests()).hasSize(200);
    assertThat(upstream.connectionsAccepted()).as("200 requests, 4 concurrent").isLessThanOrEqualTo(8);
  }

  @Test
  void idle_pooled_connections_close_after_max_idle_time() throws Exception {
    try (FakeUpstream own = FakeUpstream.start("own");
        ProxyUnderTest short_ = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: all, cluster: own } ]
            clusters: [ { name: own, endpoints: ["${OWN}"], pool: { maxIdleTime: 200ms } } ]
            """, Map.of("OWN", own.address()))) {
      assertThat(short_.get("a", "/1").status()).isEqualTo(200);
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> own.openConnections() == 0);
      assertThat(short_.get("a", "/2").status()).isEqualTo(200);
      assertThat(own.connectionsAccepted()).isEqualTo(2);
    }
  }

  @Test
  void max_connections_per_loop_queues_requests_instead_of_opening_more() throws Exception {
    try (FakeUpstream own = FakeUpstream.start("own");
        ProxyUnderTest single = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: all, cluster: own } ]
            clusters: [ { name: own, endpoints: ["${OWN}"], pool: { maxConnections: 1 } } ]
            """, Map.of("OWN", own.address()))) {
      own.respond(head -> Reply.ok().firstByteDelay(Duration.ofMillis(100)));
      ExecutorService pool = Executors.newFixedThreadPool(6);
      try {
        List<Future<Integer>> results = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
          results.add(pool.submit(() -> single.get("a", "/q").status()));
        }
        for (Future<Integer> result : results) {
          assertThat(result.get(20, TimeUnit.SECONDS)).isEqualTo(200);
        }
      } finally {
        pool.shutdownNow();
      }
      int loops = Runtime.getRuntime().availableProcessors();
      assertThat(own.connectionsAccepted()).as("one per event loop").isLessThanOrEqualTo(loops);
    }
  }
}
