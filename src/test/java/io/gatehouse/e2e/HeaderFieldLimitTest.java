package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code limits.maxHeaderFields}: a request head of many tiny fields is within the byte limit, but
 * each field costs the proxy and every server behind it (Envoy, Tomcat and Apache stop at 100,
 * HAProxy at 101). Past the limit: 431, logged and counted under {@code headers_too_large}, never
 * forwarded; at the limit the request goes on whole.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HeaderFieldLimitTest {
  private FakeUpstream upstream;
  private ProxyUnderTest proxy;

  @BeforeEach
  void startOrigin() throws Exception {
    upstream = FakeUpstream.start("origin");
  }

  @AfterEach
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    upstream.close();
  }

  private void start(String limits) throws Exception {
    proxy = ProxyUnderTest.start(limits + """

        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes: [ { name: all, cluster: origin } ]
        clusters: [ { name: origin, endpoints: ["${ORIGIN}"] } ]
        """, Map.of("ORIGIN", upstream.address()));
  }

  /** A request with {@code fields} header fields, Host among them. */
  private RawResponse send(int fields) throws Exception {
    StringBuilder head = new StringBuilder("GET /f HTTP/1.1\r\nHost: a\r\n");
    for (int i = 1; i < fields; i++) {
      head.append("X-F").append(i).append(": v\r\n");
    }
    try (RawHttpClient client = proxy.connect()) {
      return client.send(head.append("\r\n").toString()).readResponse();
    }
  }

  @Test
  void theDefaultLetsAHundredFieldsThroughAndRefusesTheHundredAndFirst() throws Exception {
    start("");
    RawResponse atLimit = send(100);
    assertThat(atLimit.status()).isEqualTo(200);
    assertThat(upstream.lastRequest().header("X-F99")).as("every field went on").isEqualTo("v");

    upstream.clearRequests();
    RawResponse over = send(101);
    assertThat(over.status()).isEqualTo(431);
    assertThat(over.bodyAsString()).contains("101 header fields (limit 100)");
    assertThat(upstream.requests()).isEmpty();
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.metrics().requests("web", "all", "", 431) == 1);
  }

  @Test
  void theLimitIsConfigurable() throws Exception {
    start("limits: { maxHeaderFields: 3 }");
    assertThat(send(3).status()).isEqualTo(200);
    assertThat(send(4).status()).isEqualTo(431);
  }
}
