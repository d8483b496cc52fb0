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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Client connection limits, the idle timeout and the active-connections gauge. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ConnectionLimitsTest {
  private FakeUpstream upstream = FakeUpstream.start("origin");
  private ProxyUnderTest proxy;

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    upstream.close();
  }

  private ProxyUnderTest start(String limits) throws Exception {
    proxy = ProxyUnderTest.start("""
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes: [ { name: all, cluster: origin } ]
        clusters: [ { name: origin, endpoints: ["${ORIGIN}"] } ]
        limits: %s
        """.formatted(limits), Map.of("ORIGIN", upstream.address()));
    return proxy;
  }

  private static boolean serves(RawHttpClient client) {
    try {
      client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      return client.readResponse().status() == 200;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  @Test
  void connections_beyond_the_limit_are_closed_at_accept() throws Exception {
    start("{ maxConnections: 2 }");
    try (RawHttpClient one = proxy.connect(); RawHttpClient two = proxy.connect()) {
      assertThat(serves(one)).isTrue();
      assertThat(serves(two)).isTrue();
      try (RawHttpClient three = proxy.connect()) {
        assertThat(serves(three)).isFalse();
      }
    }
    // both slots free again once the clients have gone
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      try (RawHttpClient again = proxy.connect()) {
        assertThat(serves(again)).isTrue();
      }
    });
  }

  @Test
  void per_client_connection_limit() throws Exception {
    start("{ perClient: { connections: 1 } }");
    try (RawHttpClient one = proxy.connect()) {
      assertThat(serves(one)).isTrue();
      try (RawHttpClient two = proxy.connect()) {
        assertThat(serves(two)).isFalse();
      }
      assertThat(serves(one)).as("the admitted connection is unaffected").isTrue();
    }
  }

  @Test
  void idle_keep_alive_connection_is_closed_after_the_idle_timeout() throws Exception {
    start("{ idleTimeout: 300ms }");
    try (RawHttpClient client = proxy.connect()) {
      assertThat(serves(client)).isTrue();
      await().atMost(Duration.ofSeconds(5)).until(client::isClosedByPeer);
    }
  }

  @Test
  void active_connections_are_exported() throws Exception {
    start("{ maxConnections: 100 }");
    try (RawHttpClient one = proxy.connect(); RawHttpClient two = proxy.connect()) {
      assertThat(serves(one)).isTrue();
      assertThat(serves(two)).isTrue();
      await().atMost(Duration.ofSeconds(5))
          .until(() -> proxy.metrics().scrape().contains("gatehouse_connections_active{listener=\"web\"} 2"));
    }
    await().atMost(Duration.ofSeconds(5))
        .until(() -> proxy.metrics().scrape().contains("gatehouse_connections_active{listener=\"web\"} 0"));
  }

  @Test
  void stalled_request_body_gets_408_and_the_upstream_request_is_cut() throws Exception {
    start("{ idleTimeout: 300ms, requestBufferBytes: 0 }"); // streamed: the upstream sees the start of it
    long before = proxy.metrics().localReplies("body_timeout");
    try (RawHttpClient client = proxy.connect()) {
      client.send("POST /slow-body HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
      io.gatehouse.testing.RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(408);
      assertThat(client.readAllUntilClose()).isEmpty();
    }
    assertThat(proxy.metrics().localReplies("body_timeout")).isEqualTo(before + 1);
    await().atMost(Duration.ofSeconds(5)).until(() -> upstream.requests().size() == 1);
    assertThat(upstream.lastRequest().complete()).isFalse();
  }
}
