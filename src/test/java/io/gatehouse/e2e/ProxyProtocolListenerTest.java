package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawH2Client;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestCerts;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Listeners behind an L4 balancer: a connection from a trusted source ({@value #BALANCER}) opens
 * with a PROXY protocol header (v1 text or v2 binary) and the client it names is the client
 * everywhere (X-Forwarded-For, Forwarded, the access log, access rules); a trusted source without
 * a valid header is closed; an untrusted one ({@code 127.0.0.1}) is never believed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ProxyProtocolListenerTest {
  /** The balancer's address: Linux routes all of 127.0.0.0/8 to loopback. */
  static final String BALANCER = "127.0.0.2";

  private TestCerts certs;
  private FakeUpstream upstream;
  private ProxyUnderTest proxy;
  private Path accessLog;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    certs = TestCerts.selfSigned(dir);
    accessLog = dir.resolve("access.log");
    upstream = FakeUpstream.start("origin");
    proxy = ProxyUnderTest.start("""
        accessLog: { enabled: true, format: json, path: "${LOG}" }
        limits: { headerTimeout: 1s }
        listeners:
          - { name: lb, bind: 127.0.0.1:0, mode: reverse, headers: { forwarded: true },
              proxyProtocol: { trustedFrom: ["127.0.0.2/32"] } }
          - { name: lbtls, bind: 127.0.0.1:0, mode: reverse, proxyProtocol: { trustedFrom: ["127.0.0.2"] },
              tls: { certificates: [ { cert: "${CERT}", key: "${KEY}" } ], alpn: [h2, http/1.1] } }
          - name: egress
            bind: 127.0.0.1:0
            mode: forward
            proxyProtocol: { trustedFrom: ["127.0.0.2"] }
            forward:
              blockPrivateDestinations: false
              rules:
                - deny: { name: blocked-client, clients: ["203.0.113.66"] }
                - allow: { clients: ["0.0.0.0/0"] }
        routes: [ { name: all, cluster: origin } ]
        clusters: [ { name: origin, endpoints: ["${ORIGIN}"] } ]
        """, Map.of("CERT", certs.certificate().toString(), "KEY", certs.privateKey().toString(),
        "ORIGIN", upstream.address(), "LOG", accessLog.toString()));
  }

  @AfterAll
  void stop() {
    proxy.close();
    upstream.close();
  }

  @Test
  void v1_header_from_the_balancer_names_the_client_upstream_and_in_the_log() throws Exception {
    try (RawHttpClient client = RawHttpClient.connectFrom(BALANCER, proxy.port("lb"))) {
      client.send("PROXY TCP4 203.0.113.7 192.0.2.1 51234 80\r\nGET /v1 HTTP/1.1\r\nHost: site\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    RecordedRequest seen = request("/v1");
    assertThat(seen.header("X-Forwarded-For")).isEqualTo("203.0.113.7");
    assertThat(seen.header("Forwarded")).isEqualTo("for=203.0.113.7;proto=http;host=site");
    assertThat(logged("/v1").get("client").asText()).isEqualTo("203.0.113.7");
  }

  @Test
  void v2_header_ipv4_names_the_client() throws Exception {
    try (RawHttpClient client = RawHttpClient.connectFrom(BALANCER, proxy.port("lb"))) {
      client.send(v2Proxy("198.51.100.9", 40000, "192.0.2.1", 80));
      client.send("GET /v2-4 HTTP/1.1\r\nHost: site\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    assertThat(request("/v2-4").header("X-Forwarded-For")).isEqualTo("198.51.100.9");
    assertThat(logged("/v2-4").get("client").asText()).isEqualTo("198.51.100.9");
  }

  @Test
  void v2_header_ipv6_names_the_client() throws Exception {
    try (RawHttpClient client = RawHttpClient.connectFrom(BALANCER, proxy.port("lb"))) {
      // Header and request in one write: the bytes behind the header reach the HTTP codec.
      ByteArrayOutputStream both = new ByteArrayOutputStream();
      both.write(v2Proxy("2001:db8::7", 40000, "2001:db8::1", 443));
      both.write("GET /v2-6 HTTP/1.1\r\nHost: site\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      client.send(both.toByteArray());
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    RecordedRequest seen = request("/v2-6");
    assertThat(seen.header("X-Forwarded-For")).isEqualTo("2001:db8:0:0:0:0:0:7");
    assertThat(seen.header("Forwarded")).isEqualTo("for=\"[2001:db8:0:0:0:0:0:7]\";proto=http;host=site");
  }

  @Test
  void v2_local_keeps_the_socket_address() throws Exception {
    try (RawHttpClient client = RawHttpClient.connectFrom(BALANCER, proxy.port("lb"))) {
      client.send(v2Local());
      client.send("GET /local HTTP/1.1\r\nHost: site\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    assertThat(request("/local").header("X-Forwarded-For")).isEqualTo(BALANCER);
  }

  @Test
  void v1_unknown_keeps_the_socket_address() throws Exception {
    try (RawHttpClient client = RawHttpClient.connectFrom(BALANCER, proxy.port("lb"))) {
      client.send("PROXY UNKNOWN\r\nGET /unknown HTTP/1.1\r\nHost: site\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    assertThat(request("/unknown").header("X-Forwarded-For")).isEqualTo(BALANCER);
  }

  @Test
  void malformed_header_from_the_balancer_is_closed_and_counted() throws Exception {
    long before = proxy.metrics().protocolErrors("lb", "proxy-protocol");
    try (RawHttpClient client = RawHttpClient.connectFrom(BALANCER, proxy.port("lb"))) {
      client.send("PROXY TCP4 999.0.113.7 192.0.2.1 51234 80\r\nGET /malformed HTTP/1.1\r\nHost: site\r\n\r\n");
      assertThat(client.readAllUntilClose()).isEmpty();
    }
    // The decoder closes, then reports: the count may follow the close by a moment.
    await().atMost(Duration.ofSeconds(5))
        .until(() -> proxy.metrics().protocolErrors("lb", "proxy-protocol") == before + 1);
    assertThat(upstream.requests()).noneMatch(r -> r.uri().equals("/malformed"));
  }

  @Test
  void untrusted_source_with_a_header_gets_400_and_nothing_goes_upstream() throws Exception {
    long before = proxy.metrics().localReplies("malformed");
    try (RawHttpClient client = RawHttpClient.connect(proxy.port("lb"))) {
      client.send("PROXY TCP4 203.0.113.8 192.0.2.1 51234 80\r\nGET /untrusted-v1 HTTP/1.1\r\nHost: site\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(400);
      client.readAllUntilClose();
    }
    try (RawHttpClient client = RawHttpClient.connect(proxy.port("lb"))) {
      client.send(v2Proxy("203.0.113.8", 40000, "192.0.2.1", 80));
      client.send("GET /untrusted-v2 HTTP/1.1\r\nHost: site\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(400);
      client.readAllUntilClose();
    }
    assertThat(proxy.metrics().localReplies("malformed")).isEqualTo(before + 2);
    assertThat(upstream.requests()).noneMatch(r -> r.uri().startsWith("/untrusted"));
  }

  @Test
  void trusted_source_without_a_header_is_closed_and_counted() throws Exception {
    long before = proxy.metrics().protocolErrors("lb", "proxy-protocol");
    try (RawHttpClient client = RawHttpClient.connectFrom(BALANCER, proxy.port("lb"))) {
      client.send("GET /no-header HTTP/1.1\r\nHost: site\r\n\r\n");
      assertThat(client.readAllUntilClose()).isEmpty();
    }
    // The decoder closes, then reports: the count may follow the close by a moment.
    await().atMost(Duration.ofSeconds(5))
        .until(() -> proxy.metrics().protocolErrors("lb", "proxy-protocol") == before + 1);
    assertThat(upstream.requests()).noneMatch(r -> r.uri().equals("/no-header"));
  }

  @Test
  void half_a_header_is_closed_by_the_header_timeout() throws Exception {
    long before = proxy.metrics().protocolErrors("lb", "proxy-protocol");
    try (RawHttpClient client = RawHttpClient.connectFrom(BALANCER, proxy.port("lb"))) {
      client.send("PROXY TCP4 203.0.");
      client.timeout(Duration.ofSeconds(20)); // headerTimeout is 1s; the test's own bound is 30s
      assertThat(client.readAllUntilClose()).isEmpty();
    }
    await().atMost(Duration.ofSeconds(5))
        .until(() -> proxy.metrics().protocolErrors("lb", "proxy-protocol") == before + 1);
  }

  @Test
  void tls_listener_reads_the_header_before_the_client_hello() throws Exception {
    Socket raw = new Socket();
    raw.bind(new InetSocketAddress(BALANCER, 0));
    raw.connect(new InetSocketAddress("127.0.0.1", proxy.port("lbtls")), 5000);
    raw.setSoTimeout(5000);
    raw.getOutputStream().write("PROXY TCP4 203.0.113.9 192.0.2.1 51234 443\r\n".getBytes(StandardCharsets.US_ASCII));
    SSLSocket tls = (SSLSocket) certs.clientSslContext().getSocketFactory()
        .createSocket(raw, "localhost", raw.getPort(), true);
    javax.net.ssl.SSLParameters parameters = tls.getSSLParameters();
    parameters.setApplicationProtocols(new String[] {"http/1.1"});
    tls.setSSLParameters(parameters);
    try (RawHttpClient client = RawHttpClient.over(tls)) {
      client.send("GET /tls HTTP/1.1\r\nHost: site\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    assertThat(request("/tls").header("X-Forwarded-For")).isEqualTo("203.0.113.9");
    assertThat(request("/tls").header("X-Forwarded-Proto")).isEqualTo("https");
  }

  @Test
  void http2_streams_see_the_connection_client() throws Exception {
    Socket raw = new Socket();
    raw.bind(new InetSocketAddress(BALANCER, 0));
    raw.connect(new InetSocketAddress("127.0.0.1", proxy.port("lbtls")), 5000);
    raw.getOutputStream().write(v2Proxy("198.51.100.22", 40000, "192.0.2.1", 443));
    try (RawH2Client client = RawH2Client.over(raw, certs)) {
      client.headers(1, true, RawH2Client.request("GET", "/h2", "site"));
      assertThat(client.awaitResponse(1).status()).isEqualTo("200");
      client.headers(3, true, RawH2Client.request("GET", "/h2-again", "site"));
      assertThat(client.awaitResponse(3).status()).isEqualTo("200");
    }
    assertThat(request("/h2").header("X-Forwarded-For")).isEqualTo("198.51.100.22");
    assertThat(request("/h2-again").header("X-Forwarded-For")).isEqualTo("198.51.100.22");
  }

  @Test
  void forward_access_rules_judge_the_header_client() throws Exception {
    String target = "http://" + upstream.address() + "/fwd";
    try (RawHttpClient client = RawHttpClient.connectFrom(BALANCER, proxy.port("egress"))) {
      client.send("PROXY TCP4 203.0.113.66 192.0.2.1 51234 3128\r\nGET " + target + " HTTP/1.1\r\nHost: "
          + upstream.address() + "\r\n\r\n");
      RawResponse denied = client.readResponse();
      assertThat(denied.status()).isEqualTo(403);
      assertThat(denied.header("X-Gatehouse-Denied")).isEqualTo("blocked-client");
    }
    assertThat(upstream.requests()).noneMatch(r -> r.uri().equals("/fwd"));
    try (RawHttpClient client = RawHttpClient.connectFrom(BALANCER, proxy.port("egress"))) {
      client.send("PROXY TCP4 203.0.113.67 192.0.2.1 51234 3128\r\nGET " + target + "?ok HTTP/1.1\r\nHost: "
          + upstream.address() + "\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    assertThat(request("/fwd?ok").header("X-Forwarded-For")).isEqualTo("203.0.113.67");
  }

  @Test
  void per_client_connection_limit_counts_the_header_client_not_the_balancer() throws Exception {
    try (ProxyUnderTest limited = ProxyUnderTest.start("""
        limits: { perClient: { connections: 1 } }
        listeners: [ { name: lb, bind: 127.0.0.1:0, mode: reverse, proxyProtocol: { trustedFrom: ["127.0.0.2"] } } ]
        routes: [ { name: all, cluster: origin } ]
        clusters: [ { name: origin, endpoints: ["%s"] } ]
        """.formatted(upstream.address()));
        RawHttpClient first = RawHttpClient.connectFrom(BALANCER, limited.port());
        RawHttpClient second = RawHttpClient.connectFrom(BALANCER, limited.port());
        RawHttpClient again = RawHttpClient.connectFrom(BALANCER, limited.port())) {
      first.send("PROXY TCP4 203.0.113.30 192.0.2.1 1000 80\r\nGET /limit-a HTTP/1.1\r\nHost: site\r\n\r\n");
      assertThat(first.readResponse().status()).isEqualTo(200);
      // Another client through the same balancer: its own count.
      second.send("PROXY TCP4 203.0.113.31 192.0.2.1 1001 80\r\nGET /limit-b HTTP/1.1\r\nHost: site\r\n\r\n");
      assertThat(second.readResponse().status()).isEqualTo(200);
      // The first client again while its connection is open: over its limit of 1.
      again.send("PROXY TCP4 203.0.113.30 192.0.2.1 1002 80\r\nGET /limit-c HTTP/1.1\r\nHost: site\r\n\r\n");
      assertThat(again.readAllUntilClose()).isEmpty();
    }
    assertThat(upstream.requests()).noneMatch(r -> r.uri().equals("/limit-c"));
  }

  @Test
  void rate_limits_keep_one_bucket_per_header_client() throws Exception {
    try (ProxyUnderTest limited = ProxyUnderTest.start("""
        listeners: [ { name: lb, bind: 127.0.0.1:0, mode: reverse, proxyProtocol: { trustedFrom: ["127.0.0.2"] } } ]
        routes: [ { name: all, cluster: origin, rateLimit: { key: clientIp, perSecond: 0.01, burst: 1 } } ]
        clusters: [ { name: origin, endpoints: ["%s"] } ]
        """.formatted(upstream.address()))) {
      assertThat(viaBalancer(limited, "203.0.113.40", "/rl-a1")).isEqualTo(200);
      assertThat(viaBalancer(limited, "203.0.113.40", "/rl-a2")).isEqualTo(429);
      // Same balancer, another client: a bucket of its own.
      assertThat(viaBalancer(limited, "203.0.113.41", "/rl-b1")).isEqualTo(200);
    }
  }

  @Test
  void consistent_hash_on_client_ip_hashes_the_header_clients() throws Exception {
    try (FakeUpstream other = FakeUpstream.start("other");
        ProxyUnderTest hashed = ProxyUnderTest.start("""
            listeners: [ { name: lb, bind: 127.0.0.1:0, mode: reverse, proxyProtocol: { trustedFrom: ["127.0.0.2"] } } ]
            routes: [ { name: all, cluster: pair } ]
            clusters: [ { name: pair, balancer: consistent_hash, endpoints: ["%s", "%s"] } ]
            """.formatted(upstream.address(), other.address()))) {
      java.util.Set<String> endpoints = new java.util.HashSet<>();
      for (int i = 1; i <= 20; i++) {
        String first = servedBy(hashed, "198.51.100." + i);
        assertThat(servedBy(hashed, "198.51.100." + i)).as("a client stays on its endpoint").isEqualTo(first);
        endpoints.add(first);
      }
      // One balancer address would put every client on one endpoint; 20 clients on 2 endpoints
      // all landing on one by chance: 2^-19.
      assertThat(endpoints).containsExactlyInAnyOrder("origin", "other");
    }
  }

  /** The name of the FakeUpstream that answered a request from {@code client} through the balancer. */
  private static String servedBy(ProxyUnderTest proxy, String client) throws IOException {
    try (RawHttpClient c = RawHttpClient.connectFrom(BALANCER, proxy.port())) {
      c.send("PROXY TCP4 " + client + " 192.0.2.1 1000 80\r\nGET /hash HTTP/1.1\r\nHost: site\r\n\r\n");
      return c.readResponse().bodyAsString();
    }
  }

  @Test
  void a_reload_turns_it_on_and_off_on_the_kept_socket() throws Exception {
    int port;
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    String yaml = """
        admin: { bind: 127.0.0.1:0 }
        listeners: [ { name: lb, bind: 127.0.0.1:%d, mode: reverse%s } ]
        routes: [ { name: all, cluster: origin } ]
        clusters: [ { name: origin, endpoints: ["%s"] } ]
        """;
    String on = ", proxyProtocol: { trustedFrom: [\"127.0.0.2\"] }";
    try (ProxyUnderTest reloaded = ProxyUnderTest.start(yaml.formatted(port, "", upstream.address()))) {
      assertThat(viaBalancer(reloaded, "203.0.113.50", "/reload-off")).isEqualTo(400);
      reloaded.server().reload(io.gatehouse.config.ConfigLoader.parse(yaml.formatted(port, on, upstream.address()),
          "test.yaml", Map.of()));
      assertThat(viaBalancer(reloaded, "203.0.113.50", "/reload-on")).isEqualTo(200);
      assertThat(request("/reload-on").header("X-Forwarded-For")).isEqualTo("203.0.113.50");
      reloaded.server().reload(io.gatehouse.config.ConfigLoader.parse(yaml.formatted(port, "", upstream.address()),
          "test.yaml", Map.of()));
      assertThat(viaBalancer(reloaded, "203.0.113.50", "/reload-off-again")).isEqualTo(400);
    }
    assertThat(upstream.requests()).noneMatch(r -> r.uri().startsWith("/reload-off"));
  }

  private static int viaBalancer(ProxyUnderTest proxy, String client, String path) throws IOException {
    try (RawHttpClient c = RawHttpClient.connectFrom(BALANCER, proxy.port())) {
      c.send("PROXY TCP4 " + client + " 192.0.2.1 1000 80\r\nGET " + path + " HTTP/1.1\r\nHost: site\r\n\r\n");
      return c.readResponse().status();
    }
  }

  private RecordedRequest request(String uri) {
    await().atMost(Duration.ofSeconds(5)).until(() -> upstream.requests().stream().anyMatch(r -> r.uri().equals(uri)));
    return upstream.requests().stream().filter(r -> r.uri().equals(uri)).findFirst().orElseThrow();
  }

  /** The access-log line of the request for {@code path}, once written. */
  private JsonNode logged(String path) throws IOException {
    ObjectMapper json = new ObjectMapper();
    await().atMost(Duration.ofSeconds(5)).until(() -> line(json, path) != null);
    return line(json, path);
  }

  private JsonNode line(ObjectMapper json, String path) throws IOException {
    if (!Files.exists(accessLog)) {
      return null;
    }
    List<String> lines = Files.readAllLines(accessLog);
    for (String line : lines) {
      JsonNode node = json.readTree(line);
      if (path.equals(node.path("path").asText())) {
        return node;
      }
    }
    return null;
  }

  /** The PROXY protocol v2 signature (HAProxy's spec, section 2.2). */
  static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

  /** A v2 {@code PROXY} header for TCP over IPv4 or IPv6, written out byte by byte. */
  static byte[] v2Proxy(String source, int sourcePort, String destination, int destinationPort) throws IOException {
    byte[] src = InetAddress.getByName(source).getAddress();
    byte[] dst = InetAddress.getByName(destination).getAddress();
    ByteBuffer b = ByteBuffer.allocate(16 + 2 * src.length + 4);
    b.put(V2_SIGNATURE).put((byte) 0x21).put((byte) (src.length == 4 ? 0x11 : 0x21)).putShort((short) (2 * src.length + 4));
    b.put(src).put(dst).putShort((short) sourcePort).putShort((short) destinationPort);
    return b.array();
  }

  /** A v2 {@code LOCAL} header (a balancer's own health check): no addresses. */
  static byte[] v2Local() {
    return ByteBuffer.allocate(16).put(V2_SIGNATURE).put((byte) 0x20).put((byte) 0x00).putShort((short) 0).array();
  }
}
