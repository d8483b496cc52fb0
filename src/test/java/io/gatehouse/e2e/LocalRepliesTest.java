package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.config.HostPort;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.Reply;
import io.gatehouse.upstream.AdminState;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/** The proxy's own answers when routing or the upstream fails: status, counter, and connection reuse. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class LocalRepliesTest {
  private FakeUpstream upstream;
  private FakeUpstream disabled;
  private ProxyUnderTest proxy;

  @BeforeAll
  void start() throws Exception {
    upstream = FakeUpstream.start("origin");
    disabled = FakeUpstream.start("disabled");
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort(); // free once closed: connecting is refused
    }
    proxy = ProxyUnderTest.start("""
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes:
          - { name: ok, match: { host: ok.test }, cluster: origin }
          - { name: refused, match: { host: refused.test }, cluster: refused }
          - { name: slow, match: { host: slow.test }, cluster: slow }
          - { name: off, match: { host: off.test }, cluster: off }
          - { name: route-timeout, match: { host: ok.test, pathPrefix: /route-timeout }, cluster: origin, timeout: 200ms }
        clusters:
          - { name: origin, endpoints: ["${ORIGIN}"] }
          - { name: refused, endpoints: ["127.0.0.1:${CLOSED}"] }
          - { name: slow, endpoints: ["${ORIGIN}"], timeouts: { response: 200ms } }
          - { name: off, endpoints: ["${DISABLED}"] }
        """, Map.of("ORIGIN", upstream.address(), "CLOSED", Integer.toString(closedPort),
        "DISABLED", disabled.address()));
    proxy.server().endpoints().stateFor(HostPort.parse(disabled.address())).setAdminState(AdminState.DISABLED);
  }

  @AfterAll
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    upstream.close();
    disabled.close();
  }

  /** Sends one request on a fresh connection, checks the status and counter, and that the connection survives. */
  private RawResponse expect(String host, String path, int status, String reason) throws Exception {
    long before = proxy.metrics().localReplies(reason);
    RawResponse response;
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
      response = client.readResponse();
      assertThat(response.status()).as(host + path).isEqualTo(status);
      upstream.respond(head -> Reply.ok());
      client.send("GET / HTTP/1.1\r\nHost: ok.test\r\n\r\n");
      assertThat(client.readResponse().status()).as("the connection goes on after " + status).isEqualTo(200);
    }
    assertThat(proxy.metrics().localReplies(reason)).as(reason).isEqualTo(before + 1);
    return response;
  }

  @Test
  void no_route_is_404() throws Exception {
    RawResponse response = expect("nowhere.test", "/", 404, "no_route");
    assertThat(response.bodyAsString()).contains("404");
  }

  @Test
  void refused_connection_is_502() throws Exception {
    expect("refused.test", "/", 502, "upstream_connect_failed");
  }

  @Test
  void reset_by_the_upstream_is_502() throws Exception {
    upstream.respond(head -> Reply.reset());
    expect("ok.test", "/reset", 502, "upstream_reset");
  }

  @Test
  void upstream_closing_without_a_response_is_502() throws Exception {
    upstream.respond(head -> Reply.close());
    expect("ok.test", "/close", 502, "upstream_reset");
  }

  @Test
  void slow_upstream_is_504_after_the_cluster_response_timeout() throws Exception {
    upstream.respond(head -> Reply.slow(Duration.ofSeconds(3)));
    expect("slow.test", "/", 504, "upstream_timeout");
  }

  @Test
  void route_timeout_overrides_the_cluster_one() throws Exception {
    upstream.respond(head -> Reply.slow(Duration.ofSeconds(3)));
    expect("ok.test", "/route-timeout", 504, "upstream_timeout");
  }

  @Test
  void no_available_endpoint_is_503() throws Exception {
    expect("off.test", "/", 503, "no_endpoint");
    assertThat(disabled.connectionsAccepted()).isZero();
  }

  @Test
  void truncated_response_body_closes_the_client_connection() throws Exception {
    upstream.respond(head -> Reply.ok().body("short").declaredContentLength(100));
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET /truncated HTTP/1.1\r\nHost: ok.test\r\n\r\n");
      byte[] all = client.readAllUntilClose(); // the head went out: only an abrupt end is honest
      String text = new String(all, java.nio.charset.StandardCharsets.ISO_8859_1);
      assertThat(text).startsWith("HTTP/1.1 200").contains("content-length: 100").endsWith("short");
    }
  }

  /** RFC 9112 §9.6: a client that asks to close gets its local reply with "close", then the close. */
  @Test
  void aLocalReplyClosesTheConnectionWhenTheClientAsked() throws Exception {
    for (String request : new String[] {
        "GET / HTTP/1.1\r\nHost: nowhere.test\r\nConnection: close\r\n\r\n",
        "GET / HTTP/1.0\r\nHost: nowhere.test\r\n\r\n"}) {
      try (RawHttpClient client = proxy.connect()) {
        client.send(request);
        RawResponse response = client.readResponse();
        assertThat(response.status()).isEqualTo(404);
        assertThat(response.header("Connection")).as(request).isEqualTo("close");
        assertThat(client.readAllUntilClose()).as(request).isEmpty();
      }
    }
  }

  /** The same for a reply made after the upstream failed (502 here). */
  @Test
  void aReplyAfterAnUpstreamFailureClosesTheConnectionWhenTheClientAsked() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET / HTTP/1.1\r\nHost: refused.test\r\nConnection: close\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(502);
      assertThat(response.header("Connection")).isEqualTo("close");
      assertThat(client.readAllUntilClose()).isEmpty();
    }
  }

  /** An HTTP/1.0 client that asks to keep its connection is told it is kept (RFC 9112 §C.2.2), and it is. */
  @Test
  void aLocalReplyToAnHttp10KeepAliveClientSaysKeepAlive() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET / HTTP/1.0\r\nHost: nowhere.test\r\nConnection: keep-alive\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(404);
      assertThat(response.header("Connection")).isEqualToIgnoringCase("keep-alive");
      upstream.respond(head -> Reply.ok());
      client.send("GET / HTTP/1.1\r\nHost: ok.test\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
  }
}
