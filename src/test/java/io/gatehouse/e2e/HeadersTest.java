package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.RecordedRequest;
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
 * Hop-by-hop fields (RFC 9110 §7.6.1), client identity ({@code X-Forwarded-*}, RFC 7239
 * {@code Forwarded}), {@code Via} (RFC 9110 §7.6.3) and Host handling.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HeadersTest {
  private FakeUpstream upstream;
  private ProxyUnderTest proxy;

  @BeforeAll
  void start() throws Exception {
    upstream = FakeUpstream.start("origin");
    proxy = ProxyUnderTest.start("""
        listeners:
          - { name: web, bind: 127.0.0.1:0, mode: reverse }
          - name: rfc7239
            bind: 127.0.0.1:0
            mode: reverse
            headers: { xForwarded: false, forwarded: true, via: false }
        routes:
          - { name: keep-host, listeners: [web, rfc7239], match: { host: site.test }, cluster: origin }
          - name: rewrite-host
            listeners: [web]
            match: { host: public.test }
            cluster: origin
            hostRewrite: internal.svc
        clusters: [ { name: origin, endpoints: ["${ORIGIN}"] } ]
        """, Map.of("ORIGIN", upstream.address()));
  }

  @AfterAll
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  @BeforeEach
  void reset() {
    upstream.clearRequests();
    upstream.respond(head -> Reply.ok());
  }

  private RawResponse send(int port, String request) throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(port)) {
      client.send(request);
      return client.readResponse();
    }
  }

  @Test
  void hop_by_hop_request_fields_are_removed() throws Exception {
    RawResponse response = send(proxy.port(), "GET / HTTP/1.1\r\nHost: site.test\r\n"
        + "Connection: keep-alive, X-Session-Hop, Upgrade\r\n"
        + "X-Session-Hop: secret\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nUpgrade: h2c\r\n"
        + "Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic eDp5\r\nX-End-To-End: kept\r\n\r\n");
    assertThat(response.status()).isEqualTo(200);
    RecordedRequest received = upstream.lastRequest();
    for (String name : new String[] {"X-Session-Hop", "Keep-Alive", "TE", "Upgrade", "Proxy-Connection"}) {
      assertThat(received.header(name)).as(name).isNull();
    }
    assertThat(received.header("Connection")).as("only the proxy's own, if any").satisfiesAnyOf(
        value -> assertThat(value).isNull(), value -> assertThat(value).isEqualToIgnoringCase("keep-alive"));
    assertThat(received.header("X-End-To-End")).isEqualTo("kept");
  }

  @Test
  void hop_by_hop_response_fields_are_removed() throws Exception {
    upstream.respond(head -> Reply.ok().header("Connection", "X-Internal-Hop")
        .header("X-Internal-Hop", "secret").header("Keep-Alive", "timeout=5").header("X-Public", "yes"));
    RawResponse response = send(proxy.port(), "GET / HTTP/1.1\r\nHost: site.test\r\n\r\n");
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.header("X-Internal-Hop")).isNull();
    assertThat(response.header("Keep-Alive")).isNull();
    assertThat(response.header("X-Public")).isEqualTo("yes");
    assertThat(response.header("Via")).isEqualTo("1.1 gatehouse");
  }

  /** RFC 9110 §7.6.3: Via names the protocol the request was received in. */
  @Test
  void via_names_http10_for_an_http10_request() throws Exception {
    send(proxy.port(), "GET /old HTTP/1.0\r\nHost: site.test\r\n\r\n");
    assertThat(upstream.lastRequest().header("Via")).isEqualTo("1.0 gatehouse");
  }

  @Test
  void x_forwarded_and_via_are_added_and_appended() throws Exception {
    send(proxy.port(), "GET /a HTTP/1.1\r\nHost: site.test:8080\r\n"
        + "X-Forwarded-For: 203.0.113.7\r\nVia: 1.0 edge\r\n\r\n");
    RecordedRequest received = upstream.lastRequest();
    assertThat(received.header("X-Forwarded-For")).isEqualTo("203.0.113.7, 127.0.0.1");
    assertThat(received.header("X-Forwarded-Proto")).isEqualTo("http");
    assertThat(received.header("X-Forwarded-Host")).isEqualTo("site.test:8080");
    assertThat(received.header("Via")).isEqualTo("1.0 edge, 1.1 gatehouse");
    assertThat(received.header("Forwarded")).as("off by default").isNull();
    assertThat(received.header("Host")).isEqualTo("site.test:8080");
  }

  /** RFC 9110 §5.3: a list sent over several field lines is one list; none of its members is lost. */
  @Test
  void a_chain_sent_over_several_field_lines_keeps_every_member() throws Exception {
    send(proxy.port(), "GET /a HTTP/1.1\r\nHost: site.test\r\n"
        + "X-Forwarded-For: 203.0.113.7\r\nVia: 1.0 edge\r\nX-Forwarded-For: 198.51.100.2\r\nVia: 1.1 cdn\r\n\r\n");
    RecordedRequest received = upstream.lastRequest();
    assertThat(received.header("X-Forwarded-For")).isEqualTo("203.0.113.7, 198.51.100.2, 127.0.0.1");
    assertThat(received.header("Via")).isEqualTo("1.0 edge, 1.1 cdn, 1.1 gatehouse");

    send(proxy.port("rfc7239"), "GET / HTTP/1.1\r\nHost: site.test\r\n"
        + "Forwarded: for=192.0.2.60\r\nForwarded: for=192.0.2.61;proto=https\r\n\r\n");
    assertThat(upstream.lastRequest().header("Forwarded"))
        .isEqualTo("for=192.0.2.60, for=192.0.2.61;proto=https, for=127.0.0.1;proto=http;host=site.test");

    upstream.respond(head -> Reply.ok().header("Via", "1.1 origin-cache").header("Via", "1.1 shield"));
    assertThat(send(proxy.port(), "GET / HTTP/1.1\r\nHost: site.test\r\n\r\n").header("Via"))
        .isEqualTo("1.1 origin-cache, 1.1 shield, 1.1 gatehouse");
  }

  @Test
  void forwarded_is_added_when_configured() throws Exception {
    send(proxy.port("rfc7239"), "GET / HTTP/1.1\r\nHost: site.test\r\nForwarded: for=192.0.2.60\r\n\r\n");
    RecordedRequest received = upstream.lastRequest();
    assertThat(received.header("Forwarded")).isEqualTo("for=192.0.2.60, for=127.0.0.1;proto=http;host=site.test");
    assertThat(received.header("X-Forwarded-For")).isNull();
    assertThat(received.header("Via")).isNull();
  }

  @Test
  void host_is_rewritten_per_route() throws Exception {
    send(proxy.port(), "GET / HTTP/1.1\r\nHost: public.test\r\n\r\n");
    RecordedRequest received = upstream.lastRequest();
    assertThat(received.header("Host")).isEqualTo("internal.svc");
    assertThat(received.header("X-Forwarded-Host")).isEqualTo("public.test");
  }

  @Test
  void absolute_form_target_becomes_origin_form_with_its_authority_as_host() throws Exception {
    RawResponse response = send(proxy.port(), "GET http://site.test/p?q=1 HTTP/1.1\r\nHost: other.test\r\n\r\n");
    assertThat(response.status()).isEqualTo(200);
    RecordedRequest received = upstream.lastRequest();
    assertThat(received.uri()).isEqualTo("/p?q=1");
    assertThat(received.header("Host")).isEqualTo("site.test");
  }

  @Test
  void obs_text_in_a_field_value_is_forwarded_byte_for_byte() throws Exception {
    byte[] utf8Cookie = "n=caf\u00e9".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      client.send("GET / HTTP/1.1\r\nHost: site.test\r\nCookie: ");
      client.send(utf8Cookie);
      client.send("\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    String received = upstream.lastRequest().header("Cookie");
    assertThat(received.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)).isEqualTo(utf8Cookie);
  }
}
