package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Routes by host (exact, {@code *.suffix}, any) and longest path prefix; balancers and weights. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class RoutingTest {
  private final List<FakeUpstream> upstreams = new ArrayList<>();
  private ProxyUnderTest proxy;

  private FakeUpstream upstream(String name) {
    FakeUpstream u = FakeUpstream.start(name);
    upstreams.add(u);
    return u;
  }

  @BeforeAll
  void start() throws Exception {
    Map<String, String> vars = Map.of(
        "EXACT", upstream("exact").address(),
        "EXACT_V2", upstream("exact-v2").address(),
        "WILD", upstream("wild").address(),
        "DEEP_WILD", upstream("deep-wild").address(),
        "ANY", upstream("any").address(),
        "RR_A", upstream("rr-a").address(),
        "RR_B", upstream("rr-b").address(),
        "HEAVY", upstream("heavy").address(),
        "LIGHT", upstream("light").address(),
        "BLUE", upstream("blue").address());
    proxy = ProxyUnderTest.start("""
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes:
          - { name: exact, match: { host: api.example.com }, cluster: exact }
          - { name: exact-v2, match: { host: api.example.com, pathPrefix: /v2/ }, cluster: exact-v2 }
          - { name: wild, match: { host: "*.example.com" }, cluster: wild }
          - { name: deep-wild, match: { host: "*.eu.example.com" }, cluster: deep-wild }
          - { name: any-static, match: { pathPrefix: /static/ }, cluster: any }
          - { name: rr, match: { host: rr.test }, cluster: rr }
          - { name: weighted, match: { host: weighted.test }, cluster: weighted }
          - name: bluegreen
            match: { host: bg.test }
            backends: [ { cluster: blue, weight: 100 }, { cluster: green, weight: 0 } ]
        clusters:
          - { name: exact, endpoints: ["${EXACT}"] }
          - { name: exact-v2, endpoints: ["${EXACT_V2}"] }
          - { name: wild, endpoints: ["${WILD}"] }
          - { name: deep-wild, endpoints: ["${DEEP_WILD}"] }
          - { name: any, endpoints: ["${ANY}"] }
          - { name: rr, balancer: round_robin, endpoints: ["${RR_A}", "${RR_B}"] }
          - name: weighted
            balancer: weighted
            endpoints: [ { address: "${HEAVY}", weight: 3 }, { address: "${LIGHT}", weight: 1 } ]
          - { name: blue, endpoints: ["${BLUE}"] }
          - { name: green, endpoints: ["127.0.0.1:1"] }
        """, vars);
  }

  @AfterAll
  void stop() {
    if (proxy != null) {
      proxy.close();
    }
    upstreams.forEach(FakeUpstream::close);
  }

  private String served(String host, String path) throws Exception {
    RawResponse response = proxy.get(host, path);
    assertThat(response.status()).as("%s%s", host, path).isEqualTo(200);
    return response.header("X-Upstream");
  }

  @Test
  void exact_host_beats_wildcard_and_longest_prefix_wins() throws Exception {
    assertThat(served("api.example.com", "/")).isEqualTo("exact");
    assertThat(served("API.Example.com:8080", "/v1/x")).isEqualTo("exact");
    assertThat(served("api.example.com.", "/v2/x")).as("a fully qualified name's trailing dot").isEqualTo("exact-v2");
    assertThat(served("api.example.com.:8080", "/")).isEqualTo("exact");
    assertThat(served("api.example.com", "/v2/users?id=1")).isEqualTo("exact-v2");
    assertThat(served("api.example.com", "/v2")).as("prefix is /v2/, not /v2").isEqualTo("exact");
  }

  @Test
  void wildcard_matches_subdomains_longest_suffix_first() throws Exception {
    assertThat(served("www.example.com", "/")).isEqualTo("wild");
    assertThat(served("a.b.example.com", "/")).isEqualTo("wild");
    assertThat(served("paris.eu.example.com", "/")).isEqualTo("deep-wild");
  }

  @Test
  void host_less_route_serves_any_host_and_nothing_else_matches() throws Exception {
    assertThat(served("unknown.test", "/static/app.js")).isEqualTo("any");
    assertThat(served("www.example.com", "/static/app.js")).as("a host route beats a host-less one").isEqualTo("wild");

    long before = proxy.metrics().localReplies("no_route");
    RawResponse notFound = proxy.get("unknown.test", "/");
    assertThat(notFound.status()).isEqualTo(404);
    RawResponse bareDomain = proxy.get("example.com", "/");
    assertThat(bareDomain.status()).as("*.example.com does not match example.com").isEqualTo(404);
    assertThat(proxy.metrics().localReplies("no_route")).isEqualTo(before + 2);
  }

  @Test
  void pipelined_requests_with_a_local_reply_in_between_stay_in_order() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET /a HTTP/1.1\r\nHost: api.example.com\r\n\r\n"
          + "POST /missing HTTP/1.1\r\nHost: nowhere.test\r\nContent-Length: 4\r\n\r\nbody"
          + "GET /v2/b HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
      assertThat(client.readResponse().header("X-Upstream")).isEqualTo("exact");
      assertThat(client.readResponse().status()).isEqualTo(404);
      assertThat(client.readResponse().header("X-Upstream")).isEqualTo("exact-v2");
    }
  }

  @Test
  void client_connection_close_is_honoured_and_target_kept_but_for_dot_segments() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET /static/a%20b/../c?x=1&y=%2F HTTP/1.1\r\nHost: any.test\r\nConnection: close\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.header("Connection")).isEqualToIgnoringCase("close");
      assertThat(client.readAllUntilClose()).isEmpty();
    }
    FakeUpstream any = upstreams.stream().filter(u -> u.name().equals("any")).findFirst().orElseThrow();
    // Dot-segments are resolved (the upstream serves the path that was routed); encodings and the
    // query are passed on as they came.
    assertThat(any.lastRequest().uri()).isEqualTo("/static/c?x=1&y=%2F");
  }

  @Test
  void dot_segments_cannot_escape_a_route_prefix() throws Exception {
    // /static/ goes to "any"; api.example.com/v2/ to "exact-v2". Climbing out of /v2/ with dots,
    // plain or percent-encoded, routes by the resolved path.
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET /v2/../admin HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
      assertThat(client.readResponse().header("X-Upstream")).isEqualTo("exact");
      client.send("GET /v2/%2e%2e/admin HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
      assertThat(client.readResponse().header("X-Upstream")).isEqualTo("exact");
      client.send("GET /x/../v2/y HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
      assertThat(client.readResponse().header("X-Upstream")).isEqualTo("exact-v2");
    }
    FakeUpstream exact = upstreams.stream().filter(u -> u.name().equals("exact")).findFirst().orElseThrow();
    assertThat(exact.lastRequest().uri()).isEqualTo("/admin");
  }

  /**
   * {@code /%76%32/} is {@code /v2/} to every origin (RFC 3986 §6.2.2.2): it is routed as such, and
   * sent on decoded; a reserved character's encoding ({@code %2F}) stays as it came.
   */
  @Test
  void an_encoded_unreserved_character_cannot_dodge_a_route_prefix() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET /%76%32/a%2Fb HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
      assertThat(client.readResponse().header("X-Upstream")).isEqualTo("exact-v2");
    }
    FakeUpstream v2 = upstreams.stream().filter(u -> u.name().equals("exact-v2")).findFirst().orElseThrow();
    assertThat(v2.lastRequest().uri()).isEqualTo("/v2/a%2Fb");
  }

  /** A {@code %} without two hex digits, or an encoded NUL, is no path: 400, then close, as nginx. */
  @ParameterizedTest
  @ValueSource(strings = {"/v2/a%zz", "/v2/a%4", "/v2/a%", "/v2/a%00b"})
  void a_malformed_percent_encoding_is_refused(String path) throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET " + path + " HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(400);
      assertThat(response.bodyAsString()).contains("percent-encoding");
      assertThat(client.readAllUntilClose()).isEmpty();
    }
  }

  /** A fragment is the client's own (RFC 9110 §4.2.5): dropped before routing, never sent on. */
  @Test
  void a_fragment_is_dropped_before_routing() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET /v2/y?q=1#/../../admin HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
      assertThat(client.readResponse().header("X-Upstream")).isEqualTo("exact-v2");
    }
    FakeUpstream v2 = upstreams.stream().filter(u -> u.name().equals("exact-v2")).findFirst().orElseThrow();
    assertThat(v2.lastRequest().uri()).isEqualTo("/v2/y?q=1");
  }

  /**
   * RFC 9112 §3.2.4: {@code OPTIONS *} asks about the server as a whole: routed as the host's root,
   * sent on as {@code *}. Another method cannot use the asterisk-form: 400, then close.
   */
  @Test
  void options_asterisk_is_routed_as_the_hosts_root_and_other_methods_cannot_use_it() throws Exception {
    try (RawHttpClient client = proxy.connect()) {
      client.send("OPTIONS * HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
      client.send("GET * HTTP/1.1\r\nHost: api.example.com\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(400);
      assertThat(client.readAllUntilClose()).isEmpty();
    }
    FakeUpstream exact = upstreams.stream().filter(u -> u.name().equals("exact")).findFirst().orElseThrow();
    assertThat(exact.lastRequest().method()).isEqualTo("OPTIONS");
    assertThat(exact.lastRequest().uri()).isEqualTo("*");
  }

  @Test
  void round_robin_alternates_between_two_endpoints() throws Exception {
    List<String> seen = new ArrayList<>();
    try (RawHttpClient client = proxy.connect()) { // one connection: one event loop, one balancer
      for (int i = 0; i < 10; i++) {
        client.send("GET /" + i + " HTTP/1.1\r\nHost: rr.test\r\n\r\n");
        RawResponse response = client.readResponse();
        assertThat(response.status()).isEqualTo(200);
        seen.add(response.header("X-Upstream"));
      }
    }
    assertThat(seen).containsOnly("rr-a", "rr-b");
    for (int i = 1; i < seen.size(); i++) {
      assertThat(seen.get(i)).as("request %d after %s", i, seen.get(i - 1)).isNotEqualTo(seen.get(i - 1));
    }
  }

  @Test
  void weighted_balancer_follows_endpoint_weights() throws Exception {
    List<String> seen = new ArrayList<>();
    try (RawHttpClient client = proxy.connect()) {
      for (int i = 0; i < 8; i++) {
        client.send("GET / HTTP/1.1\r\nHost: weighted.test\r\n\r\n");
        seen.add(client.readResponse().header("X-Upstream"));
      }
    }
    assertThat(seen).filteredOn("heavy"::equals).hasSize(6);
    assertThat(seen).filteredOn("light"::equals).hasSize(2);
  }

  @Test
  void backend_weight_zero_gets_no_traffic() throws Exception {
    for (int i = 0; i < 20; i++) {
      assertThat(served("bg.test", "/")).isEqualTo("blue");
    }
    assertThat(proxy.metrics().requests("web", "bluegreen", "blue", 200)).isEqualTo(20);
  }
}
