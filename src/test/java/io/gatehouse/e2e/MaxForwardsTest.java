package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.Reply;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * {@code Max-Forwards} on a reverse listener (RFC 9110 §7.6.2): a TRACE or OPTIONS that may pass no
 * more intermediaries is answered by the proxy, as its final recipient; one that may pass more
 * reaches the upstream with one hop fewer; other methods and unreadable values pass unchanged.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class MaxForwardsTest {
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
    if (proxy != null) {
      proxy.close();
    }
    upstream.close();
  }

  @BeforeEach
  void reset() {
    upstream.clearRequests();
    upstream.respond(head -> Reply.ok());
  }

  @Test
  void traceWithNoHopLeftIsEchoedByTheProxyWithoutCredentials() throws Exception {
    long before = proxy.metrics().localReplies("max_forwards");
    try (RawHttpClient client = proxy.connect()) {
      client.send("TRACE /diag?x=1 HTTP/1.1\r\nHost: app.test\r\nMax-Forwards: 0\r\nX-Probe: <seen>\r\n"
          + "Authorization: Basic c2VjcmV0\r\nCookie: session=secret\r\n\r\n");
      RawResponse r = client.readResponse();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.header("Content-Type")).isEqualTo("message/http");
      assertThat(r.header("X-Content-Type-Options")).isEqualTo("nosniff");
      assertThat(r.bodyAsString())
          .startsWith("TRACE /diag?x=1 HTTP/1.1\r\n")
          .contains("Host: app.test\r\n", "Max-Forwards: 0\r\n", "X-Probe: <seen>\r\n")
          .endsWith("\r\n\r\n")
          .doesNotContain("secret");
      client.send("GET /next HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(client.readResponse().status()).as("the connection goes on").isEqualTo(200);
    }
    assertThat(upstream.requests()).extracting(req -> req.uri()).containsExactly("/next");
    assertThat(proxy.metrics().localReplies("max_forwards")).isEqualTo(before + 1);
  }

  @Test
  void optionsWithNoHopLeftIsAnsweredWithoutContent() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("OPTIONS /opt HTTP/1.1\r\nHost: app.test\r\nMax-Forwards: 0\r\nConnection: close\r\n\r\n");
      RawResponse r = client.readResponse();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.header("Content-Length")).isEqualTo("0");
      assertThat(r.body()).isEmpty();
      assertThat(r.header("Connection")).isEqualTo("close");
      assertThat(client.readAllUntilClose()).as("closed, as the client asked").isEmpty();
    }
    assertThat(upstream.requests()).isEmpty();
  }

  @Test
  void aBodyAfterTheProxysOwnAnswerIsSkippedAndTheConnectionGoesOn() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("OPTIONS /x HTTP/1.1\r\nHost: app.test\r\nMax-Forwards: 0\r\nContent-Length: 5\r\n\r\nhello"
          + "GET /after HTTP/1.1\r\nHost: app.test\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    assertThat(upstream.requests()).extracting(req -> req.uri()).containsExactly("/after");
  }

  @Test
  void traceAndOptionsWithHopsLeftReachTheUpstreamWithOneFewer() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      assertThat(relayedValue(client, "TRACE", "1")).isEqualTo("0");
      assertThat(relayedValue(client, "OPTIONS", "10")).isEqualTo("9");
      assertThat(relayedValue(client, "OPTIONS", "99999999999999999999999")).isEqualTo(Long.toString(Long.MAX_VALUE - 1));
    }
  }

  @Test
  void otherMethodsAndUnreadableValuesPassUnchanged() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      assertThat(relayedValue(client, "GET", "0")).isEqualTo("0");
      assertThat(relayedValue(client, "TRACE", "-1")).isEqualTo("-1");
    }
    assertThat(upstream.requests()).hasSize(2);
  }

  /** Sends {@code method} with {@code Max-Forwards: value}; returns the value the upstream got. */
  private String relayedValue(RawHttpClient client, String method, String value) throws Exception {
    client.send(method + " /m HTTP/1.1\r\nHost: app.test\r\nMax-Forwards: " + value + "\r\n\r\n");
    assertThat(client.readResponse().status()).as(method + " " + value).isEqualTo(200);
    return upstream.lastRequest().header("Max-Forwards");
  }
}
