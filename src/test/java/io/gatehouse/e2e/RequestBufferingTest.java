package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.RecordedRequest;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code limits.requestBufferBytes}: a body up to that size is read before an upstream connection
 * is taken, so a slow small upload holds none; a larger one streams once that much has arrived.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RequestBufferingTest {
  private FakeUpstream upstream;
  private ProxyUnderTest proxy;

  @BeforeEach
  void start() throws Exception {
    upstream = FakeUpstream.start("origin");
    proxy = ProxyUnderTest.start("""
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes: [ { name: all, cluster: origin } ]
        clusters: [ { name: origin, endpoints: ["${ORIGIN}"] } ]
        limits: { requestBufferBytes: 4KiB }
        """, Map.of("ORIGIN", upstream.address()));
  }

  @AfterEach
  void stop() {
    proxy.close();
    upstream.close();
  }

  @Test
  void small_body_arriving_in_pieces_takes_no_upstream_connection_until_complete() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: 3000\r\n\r\n" + "a".repeat(1000));
      client.send("b".repeat(1000));
      client.send("c".repeat(999));
      // one byte short: still no upstream connection (without buffering it opens with the head)
      await().pollDelay(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2))
          .until(() -> upstream.connectionsAccepted() == 0);
      client.send("d");
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(200);
    }
    RecordedRequest request = upstream.lastRequest();
    assertThat(request.complete()).isTrue();
    assertThat(request.bodyAsString()).isEqualTo("a".repeat(1000) + "b".repeat(1000) + "c".repeat(999) + "d");
  }

  @Test
  void chunked_body_is_buffered_too() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
      await().pollDelay(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2))
          .until(() -> upstream.connectionsAccepted() == 0);
      client.send("6\r\n world\r\n0\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    assertThat(upstream.lastRequest().bodyAsString()).isEqualTo("hello world");
  }

  @Test
  void body_larger_than_the_buffer_streams_once_the_buffer_is_full() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("POST /large HTTP/1.1\r\nHost: a\r\nContent-Length: 20000\r\n\r\n" + "x".repeat(10_000));
      // the buffer (4 KiB) is full: the request goes upstream while the client still holds the rest
      await().atMost(Duration.ofSeconds(5)).until(() -> upstream.connectionsAccepted() == 1);
      client.send("y".repeat(10_000));
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    RecordedRequest request = upstream.lastRequest();
    assertThat(request.complete()).isTrue();
    assertThat(request.bodyAsString()).isEqualTo("x".repeat(10_000) + "y".repeat(10_000));
  }

  @Test
  void bad_chunk_while_buffering_is_400_and_nothing_reaches_the_upstream() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
      client.send("ZZ\r\nworld\r\n0\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(400);
    }
    assertThat(upstream.connectionsAccepted()).isZero();
  }

  @Test
  void expect_continue_goes_upstream_at_once() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("POST /continue HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
      RawResponse interim = client.readHead();
      assertThat(interim.status()).isEqualTo(100);
      client.send("hello");
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    assertThat(upstream.lastRequest().bodyAsString()).isEqualTo("hello");
  }

  @Test
  void body_too_large_while_buffering_is_413_without_an_upstream_connection() throws Exception {
    try (ProxyUnderTest small = ProxyUnderTest.start("""
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes: [ { name: all, cluster: origin } ]
        clusters: [ { name: origin, endpoints: ["${ORIGIN}"] } ]
        limits: { requestBufferBytes: 64KiB, maxBodyBytes: 1KiB }
        """, Map.of("ORIGIN", upstream.address()));
        RawHttpClient client = small.connect()) {
      client.send("POST /big HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + "z".repeat(2048) + "\r\n");
      assertThat(client.readResponse().status()).isEqualTo(413);
    }
    assertThat(upstream.connectionsAccepted()).isZero();
  }
}
