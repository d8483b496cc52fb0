package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.Reply;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * A client that half-closes after its request ({@code shutdown(SHUT_WR)}, as {@code nc -N} does) is
 * answered, then the connection closes (RFC 9112 §9.6); a half-close in the middle of a request is
 * the client aborting it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HalfCloseTest {
  private FakeUpstream upstream;
  private ProxyUnderTest proxy;

  @BeforeAll
  void start() throws Exception {
    upstream = FakeUpstream.start("origin");
    proxy = ProxyUnderTest.start("""
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes: [ { name: all, cluster: origin } ]
        clusters: [ { name: origin, endpoints: ["${ORIGIN}"] } ]
        """, Map.of("ORIGIN", upstream.address()));
  }

  @AfterAll
  void stop() {
    proxy.close();
    upstream.close();
  }

  @BeforeEach
  void reset() {
    upstream.clearRequests();
    upstream.respond(head -> Reply.ok());
  }

  @Test
  void complete_request_then_half_close_is_answered_then_closed() throws Exception {
    // The upstream answers late, so the FIN is seen while the exchange is in flight: it must go on.
    upstream.respond(head -> Reply.slow(Duration.ofMillis(200)));
    long before = proxy.metrics().requests("web", "all", "origin", 200);
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET /half HTTP/1.1\r\nHost: a\r\n\r\n");
      client.shutdownOutput();
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyAsString()).isEqualTo("origin");
      assertThat(client.readAllUntilClose()).isEmpty();
    }
    assertThat(upstream.lastRequest().uri()).isEqualTo("/half");
    await().atMost(Duration.ofSeconds(5))
        .until(() -> proxy.metrics().requests("web", "all", "origin", 200) == before + 1);
  }

  @Test
  void request_with_a_body_then_half_close_is_answered() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
      client.shutdownOutput();
      assertThat(client.readResponse().status()).isEqualTo(200);
      assertThat(client.readAllUntilClose()).isEmpty();
    }
    assertThat(upstream.lastRequest().bodyAsString()).isEqualTo("hello");
    assertThat(upstream.lastRequest().complete()).isTrue();
  }

  @Test
  void pipelined_requests_before_the_fin_are_all_answered_in_order() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET /p1 HTTP/1.1\r\nHost: a\r\n\r\n"
          + "GET /p2 HTTP/1.1\r\nHost: a\r\n\r\n"
          + "GET /p3 HTTP/1.1\r\nHost: a\r\n\r\n");
      client.shutdownOutput();
      for (int i = 1; i <= 3; i++) {
        assertThat(client.readResponse().status()).as("response %d", i).isEqualTo(200);
      }
      assertThat(client.readAllUntilClose()).isEmpty();
    }
    assertThat(upstream.requests()).extracting(r -> r.uri()).containsExactly("/p1", "/p2", "/p3");
  }

  @Test
  void local_reply_then_half_close_is_answered() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
      client.shutdownOutput();
      assertThat(client.readResponse().status()).isEqualTo(501);
      client.readAllUntilClose();
    }
  }

  @Test
  void body_cut_short_by_a_half_close_is_an_abort() throws Exception {
    long aborted = proxy.metrics().requests("web", "all", "origin", 0);
    try (RawHttpClient client = proxy.connect()) {
      client.send("POST /cut HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhell");
      client.shutdownOutput();
      assertThat(client.readAllUntilClose()).isEmpty();
    }
    await().atMost(Duration.ofSeconds(5))
        .until(() -> proxy.metrics().requests("web", "all", "origin", 0) == aborted + 1);
    assertThat(upstream.requests()).noneMatch(r -> r.uri().equals("/cut") && r.complete());
  }

  @Test
  void head_cut_short_by_a_half_close_gets_no_answer() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET /partial HTTP/1.1\r\nHost: a\r\n");
      client.shutdownOutput();
      assertThat(client.readAllUntilClose()).isEmpty();
    }
    assertThat(upstream.requests()).isEmpty();
  }
}
