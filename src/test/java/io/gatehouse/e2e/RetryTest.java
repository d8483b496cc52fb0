package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.Reply;
import java.net.ServerSocket;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** Route retries: another endpoint after a connect failure, or after a reset for idempotent requests. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RetryTest {
  private FakeUpstream good;
  private FakeUpstream flaky;
  private ProxyUnderTest proxy;

  @BeforeAll
  void start() throws Exception {
    good = FakeUpstream.start("good");
    flaky = FakeUpstream.start("flaky");
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    proxy = ProxyUnderTest.start("""
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes:
          - name: connect
            match: { host: connect.test }
            cluster: half-down
            retries: { attempts: 2, on: [connect-failure] }
          - name: reset
            match: { host: reset.test }
            cluster: half-flaky
            retries: { attempts: 2, on: [reset] }
          - { name: no-retry, match: { host: once.test }, cluster: half-down, retries: { attempts: 1 } }
        clusters:
          - { name: half-down, endpoints: ["127.0.0.1:${CLOSED}", "${GOOD}"] }
          - { name: half-flaky, endpoints: ["${FLAKY}", "${GOOD}"] }
        """, Map.of("CLOSED", Integer.toString(closedPort), "GOOD", good.address(), "FLAKY", flaky.address()));
  }

  @AfterAll
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    good.close();
    flaky.close();
  }

  @BeforeEach
  void reset() {
    flaky.respond(head -> Reply.reset());
    good.respond(head -> Reply.ok());
  }

  private int[] statuses(String host, String method, int count) throws Exception {
    int[] statuses = new int[count];
    try (RawHttpClient client = proxy.connect()) { // one connection: round robin alternates
      for (int i = 0; i < count; i++) {
        String body = method.equals("POST") ? "Content-Length: 1\r\n\r\nx" : "\r\n";
        client.send(method + " / HTTP/1.1\r\nHost: " + host + "\r\n" + body);
        RawResponse response = client.readResponse();
        statuses[i] = response.status();
        if ("close".equalsIgnoreCase(response.header("Connection"))) {
          break;
        }
      }
    }
    return statuses;
  }

  @Test
  void connect_failure_moves_to_the_next_endpoint() throws Exception {
    assertThat(statuses("connect.test", "GET", 6)).containsOnly(200);
  }

  @Test
  void without_retries_a_connect_failure_is_a_502() throws Exception {
    assertThat(statuses("once.test", "GET", 4)).contains(502, 200);
  }

  @Test
  void reset_is_retried_for_idempotent_requests_only() throws Exception {
    assertThat(statuses("reset.test", "GET", 6)).containsOnly(200);
    assertThat(statuses("reset.test", "POST", 4)).contains(502);
  }
}
