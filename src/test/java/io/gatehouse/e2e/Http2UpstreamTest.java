package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.H2Origin;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawH2Client;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.TestCerts;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clusters with {@code protocol: h2}: requests reach a real HTTP/2 origin as streams of shared
 * connections (prior knowledge in cleartext, ALPN {@code h2} over TLS), in HTTP/2's form, with
 * bodies both ways, trailers through to an HTTP/2 client (gRPC's shape), refusals replayed, and the
 * health check speaking HTTP/2 too.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class Http2UpstreamTest {
  private static final String CLUSTER = """
      listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
      routes: [ { name: all, cluster: grpc } ]
      clusters: [ { name: grpc, protocol: h2, endpoints: ["${ORIGIN}"] } ]
      """;

  @Test
  void an_http1_request_reaches_the_origin_in_http2_form() throws Exception {
    try (H2Origin origin = H2Origin.start();
        ProxyUnderTest proxy = ProxyUnderTest.start(CLUSTER, Map.of("ORIGIN", origin.address()));
        RawHttpClient client = proxy.connect()) {
      client.send("GET /hello?x=1 HTTP/1.1\r\nHost: site.test\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n"
          + "Keep-Alive: timeout=5\r\nTE: gzip\r\nX-Custom: Value\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyAsString()).isEqualTo("origin /hello?x=1");
      assertThat(response.header("x-origin")).isEqualTo("h2");
      // The stream's end is the body's end: the HTTP/1.1 client gets a framed body on a kept connection.
      client.send("GET /again HTTP/1.1\r\nHost: site.test\r\n\r\n");
      assertThat(client.readResponse().bodyAsString()).isEqualTo("origin /again");

      H2Origin.Request seen = origin.requests().get(0);
      assertThat(seen.get(":method")).isEqualTo("GET");
      assertThat(seen.get(":scheme")).isEqualTo("http");
      assertThat(seen.get(":authority")).isEqualTo("site.test");
      assertThat(seen.get(":path")).isEqualTo("/hello?x=1");
      assertThat(seen.get("x-custom")).isEqualTo("Value");
      assertThat(seen.get("x-forwarded-for")).isEqualTo("127.0.0.1");
      // RFC 9113 §8.2.2: no connection-specific field, no Host beside :authority, no TE but "trailers".
      assertThat(seen.headers()).doesNotContainKeys("connection", "keep-alive", "x-hop", "host", "te",
          "transfer-encoding", "upgrade");
      assertThat(origin.connections()).isEqualTo(1);
    }
  }

  @Test
  void bodies_stream_both_ways() throws Exception {
    try (H2Origin origin = H2Origin.start();
        ProxyUnderTest proxy = ProxyUnderTest.start(CLUSTER, Map.of("ORIGIN", origin.address()))) {
      HttpClient client = ProxyUnderTest.httpClient();
      byte[] upload = new byte[700_000];
      for (int i = 0; i < upload.length; i++) {
        upload[i] = (byte) (i % 251);
      }
      HttpResponse<byte[]> echoed = client.send(HttpRequest.newBuilder(proxy.uri("/echo"))
          .POST(HttpRequest.BodyPublishers.ofByteArray(upload)).build(), HttpResponse.BodyHandlers.ofByteArray());
      assertThat(echoed.statusCode()).isEqualTo(200);
      assertThat(echoed.body()).isEqualTo(upload);
      assertThat(origin.requests().get(0).get("content-length")).isEqualTo("700000");

      // A chunked upload (no length) is DATA frames ending with END_STREAM.
      try (RawHttpClient raw = proxy.connect()) {
        raw.send("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
        assertThat(raw.readResponse().bodyAsString()).isEqualTo("hello world");
      }
      assertThat(origin.requests().get(1).headers()).doesNotContainKey("transfer-encoding");

      HttpResponse<byte[]> big = client.send(HttpRequest.newBuilder(proxy.uri("/big/3000000")).build(),
          HttpResponse.BodyHandlers.ofByteArray());
      assertThat(big.statusCode()).isEqualTo(200);
      assertThat(big.body()).hasSize(3_000_000);
      assertThat(big.headers().firstValue("content-length")).contains("3000000");
    }
  }

  @Test
  void concurrent_requests_are_streams_of_few_connections() throws Exception {
    try (H2Origin origin = H2Origin.start();
        ProxyUnderTest proxy = ProxyUnderTest.start(CLUSTER, Map.of("ORIGIN", origin.address()))) {
      HttpClient client = ProxyUnderTest.httpClient();
      List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        calls.add(client.sendAsync(HttpRequest.newBuilder(proxy.uri("/slow/400")).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      for (CompletableFuture<HttpResponse<String>> call : calls) {
        assertThat(call.get(20, TimeUnit.SECONDS).body()).isEqualTo("slow 400");
      }
      // 40 requests in flight at once, over one connection per event loop at most (HTTP/1.1: 40).
      assertThat(origin.connections()).isLessThanOrEqualTo(Runtime.getRuntime().availableProcessors());
      assertThat(origin.maxOpenStreams()).isGreaterThanOrEqualTo(40 / Runtime.getRuntime().availableProcessors());
    }
  }

  @Test
  void streams_wait_for_the_peers_concurrency_limit_and_more_connections_open_past_it() throws Exception {
    try (H2Origin origin = H2Origin.start(5);
        ProxyUnderTest proxy = ProxyUnderTest.start(CLUSTER, Map.of("ORIGIN", origin.address()))) {
      HttpClient client = ProxyUnderTest.httpClient();
      List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        calls.add(client.sendAsync(HttpRequest.newBuilder(proxy.uri("/slow/300")).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      for (CompletableFuture<HttpResponse<String>> call : calls) {
        // None failed: a stream past the limit waits for a free one (or for the peer's first
        // SETTINGS to be known), none is sent for the origin to refuse.
        assertThat(call.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      }
      assertThat(origin.requests()).hasSize(40);
      // 40 at once, 5 streams per connection: more than one connection per event loop.
      assertThat(origin.connections()).isGreaterThan(Runtime.getRuntime().availableProcessors());
    }
  }

  @Test
  void trailers_reach_an_http2_client_as_grpc_needs_them(@TempDir Path dir) throws Exception {
    TestCerts certs = TestCerts.selfSigned(dir);
    try (H2Origin origin = H2Origin.start();
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners:
              - name: web
                bind: 127.0.0.1:0
                mode: reverse
                tls: { certificates: [ { cert: "${CERT}", key: "${KEY}" } ], alpn: [h2] }
            routes: [ { name: all, cluster: grpc } ]
            clusters: [ { name: grpc, protocol: h2, endpoints: ["${ORIGIN}"] } ]
            """, Map.of("ORIGIN", origin.address(), "CERT", certs.certificate().toString(),
            "KEY", certs.privateKey().toString()));
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      client.headers(1, false, RawH2Client.fields(":method", "POST", ":scheme", "https", ":authority", "grpc.test",
          ":path", "/trailers", "content-type", "application/grpc", "te", "trailers"));
      client.data(1, true, "\0\0\0\0\0");
      RawH2Client.Response response = client.awaitResponse(1);
      assertThat(response.status()).isEqualTo("200");
      assertThat(response.body()).isEqualTo("payload");
      assertThat(response.trailers()).isNotNull();
      assertThat(response.trailers().get("grpc-status").toString()).isEqualTo("0");
      assertThat(response.trailers().get("grpc-message").toString()).isEqualTo("ok");
      assertThat(origin.requests().get(0).get("te")).isEqualTo("trailers");
      assertThat(origin.requests().get(0).get(":method")).isEqualTo("POST");

      // A trailers-only answer (gRPC's errors) stays one HEADERS that ends the stream.
      client.headers(3, true, RawH2Client.fields(":method", "POST", ":scheme", "https", ":authority", "grpc.test",
          ":path", "/trailers-only", "te", "trailers"));
      RawH2Client.Frame only = client.awaitFrame(f -> f.streamId() == 3 && f.type() == RawH2Client.HEADERS);
      assertThat(only.endStream()).isTrue();
      assertThat(only.headers().get("grpc-status").toString()).isEqualTo("5");
    }
  }

  @Test
  void an_http1_client_gets_the_trailers_in_its_chunked_response() throws Exception {
    try (H2Origin origin = H2Origin.start();
        ProxyUnderTest proxy = ProxyUnderTest.start(CLUSTER, Map.of("ORIGIN", origin.address()));
        RawHttpClient client = proxy.connect()) {
      client.send("GET /trailers HTTP/1.1\r\nHost: a\r\nTE: trailers\r\n\r\n");
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyAsString()).isEqualTo("payload");
      assertThat(response.header("transfer-encoding")).isEqualTo("chunked");
      assertThat(response.trailer("grpc-status")).isEqualTo("0"); // in the last chunk (RFC 9112 §7.1.2)
      assertThat(origin.requests().get(0).get("te")).isEqualTo("trailers");
    }
  }

  @Test
  void a_body_shorter_than_its_content_length_never_reaches_a_client_as_a_whole_response() throws Exception {
    try (H2Origin origin = H2Origin.start();
        ProxyUnderTest proxy = ProxyUnderTest.start(CLUSTER, Map.of("ORIGIN", origin.address()))) {
      // content-length: 5, the stream ended with the HEADERS: nothing was sent yet, so a 502.
      try (RawHttpClient client = proxy.connect()) {
        client.send("GET /lying-length HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(502);
      }
      // content-length: 5, then an empty last DATA (Netty's client decoder lets a stream end with
      // no DATA, as a HEAD's answer does): the head went on, the body is short, so the client's
      // connection is closed. Kept open, the client would take its next response for the 5 bytes.
      try (RawHttpClient client = proxy.connect()) {
        client.send("GET /lying-length-data HTTP/1.1\r\nHost: a\r\n\r\n");
        String all = new String(client.readAllUntilClose(), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertThat(all).startsWith("HTTP/1.1 200");
        assertThat(all.substring(all.indexOf("\r\n\r\n") + 4)).hasSizeLessThan(5);
      }
      try (RawHttpClient client = proxy.connect()) {
        client.send("GET /after HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(client.readResponse().bodyAsString()).isEqualTo("origin /after");
      }
    }
  }

  @Test
  void a_refused_stream_is_replayed_and_a_reset_one_is_a_502() throws Exception {
    try (H2Origin origin = H2Origin.start();
        ProxyUnderTest proxy = ProxyUnderTest.start(CLUSTER, Map.of("ORIGIN", origin.address()))) {
      HttpClient client = ProxyUnderTest.httpClient();
      // A POST is not idempotent, yet REFUSED_STREAM says it was not processed (RFC 9113 §8.7).
      HttpResponse<String> replayed = client.send(HttpRequest.newBuilder(proxy.uri("/refuse-once"))
          .POST(HttpRequest.BodyPublishers.ofString("data")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(replayed.statusCode()).isEqualTo(200);
      assertThat(replayed.body()).isEqualTo("data");
      assertThat(origin.requests()).hasSize(2);

      HttpResponse<String> reset = client.send(HttpRequest.newBuilder(proxy.uri("/reset"))
          .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(reset.statusCode()).isEqualTo(502);
      assertThat(origin.requests()).hasSize(3); // not sent again

      // The connection survives a stream's reset.
      assertThat(client.send(HttpRequest.newBuilder(proxy.uri("/after")).build(), HttpResponse.BodyHandlers.ofString())
          .body()).isEqualTo("origin /after");
    }
  }

  @Test
  void a_refused_connect_fails_fast_and_is_retried_on_another_endpoint() throws Exception {
    int closed;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      closed = socket.getLocalPort();
    }
    try (H2Origin origin = H2Origin.start();
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes:
              - { name: one, match: { host: one.test }, cluster: down }
              - { name: all, cluster: half }
            clusters:
              - { name: down, protocol: h2, endpoints: ["127.0.0.1:${CLOSED}"] }
              - { name: half, protocol: h2, endpoints: ["127.0.0.1:${CLOSED}", "${ORIGIN}"] }
            """, Map.of("ORIGIN", origin.address(), "CLOSED", Integer.toString(closed)));
        RawHttpClient client = proxy.connect()) {
      long start = System.nanoTime();
      client.send("GET /x HTTP/1.1\r\nHost: one.test\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(502);
      // Its waiting request failed with the connect, not at the end of the 5 s connect timeout.
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
      for (int i = 0; i < 6; i++) {
        client.send("GET /y HTTP/1.1\r\nHost: any.test\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(200); // the connect failure is retried elsewhere
      }
    }
  }

  @Test
  void after_a_goaway_the_next_requests_go_on_a_new_connection() throws Exception {
    try (H2Origin origin = H2Origin.start();
        ProxyUnderTest proxy = ProxyUnderTest.start(CLUSTER, Map.of("ORIGIN", origin.address()))) {
      HttpClient client = ProxyUnderTest.httpClient();
      assertThat(client.send(HttpRequest.newBuilder(proxy.uri("/goaway")).build(), HttpResponse.BodyHandlers.ofString())
          .statusCode()).isEqualTo(200);
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
        for (int i = 0; i < 5; i++) {
          assertThat(client.send(HttpRequest.newBuilder(proxy.uri("/next")).build(),
              HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        }
      });
      assertThat(origin.connections()).isGreaterThanOrEqualTo(2);
      int last = origin.requests().get(origin.requests().size() - 1).connection();
      assertThat(last).isGreaterThan(origin.requests().get(0).connection());
    }
  }

  @Test
  void a_drained_endpoint_finishes_its_streams_then_its_connection_closes() throws Exception {
    try (H2Origin origin = H2Origin.start();
        ProxyUnderTest proxy = ProxyUnderTest.start("admin: { bind: 127.0.0.1:0, token: t0ken }\n" + CLUSTER,
            Map.of("ORIGIN", origin.address()))) {
      HttpClient client = ProxyUnderTest.httpClient();
      CompletableFuture<HttpResponse<String>> slow = client.sendAsync(
          HttpRequest.newBuilder(proxy.uri("/slow/1500")).build(), HttpResponse.BodyHandlers.ofString());
      await().atMost(Duration.ofSeconds(5)).until(() -> !origin.requests().isEmpty());
      HttpResponse<String> drain = client.send(HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
              + proxy.server().adminAddress().getPort() + "/api/v1/clusters/grpc/endpoints/" + origin.address()
              + "/drain?wait=10s"))
          .header("Authorization", "Bearer t0ken").POST(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(drain.statusCode()).as(drain.body()).isEqualTo(200); // in flight reached 0
      assertThat(slow.get(5, TimeUnit.SECONDS).body()).isEqualTo("slow 1500"); // finished, not cut
      // The connection carried the stream to its end, then closed: a drained endpoint keeps none.
      await().atMost(Duration.ofSeconds(5)).until(() -> origin.openConnections() == 0);
    }
  }

  @Test
  void reloads_that_replace_the_pool_lose_no_request() throws Exception {
    try (H2Origin origin = H2Origin.start();
        ProxyUnderTest proxy = ProxyUnderTest.start(CLUSTER, Map.of("ORIGIN", origin.address()))) {
      HttpClient client = ProxyUnderTest.httpClient();
      List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
      for (int reload = 1; reload <= 10; reload++) {
        for (int i = 0; i < 20; i++) {
          calls.add(client.sendAsync(HttpRequest.newBuilder(proxy.uri("/slow/" + (50 + 10 * i))).build(),
              HttpResponse.BodyHandlers.ofString()));
        }
        // Another idle time is another peer spec: a new pool; the old one's connections close after
        // the streams they carry.
        proxy.server().reload(io.gatehouse.config.ConfigLoader.parse("""
            admin: { bind: 127.0.0.1:0 }
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: all, cluster: grpc } ]
            clusters: [ { name: grpc, protocol: h2, pool: { maxIdleTime: %ds }, endpoints: ["%s"] } ]
            """.formatted(60 + reload, origin.address()), "test.yaml", Map.of()));
        Thread.sleep(30);
      }
      for (CompletableFuture<HttpResponse<String>> call : calls) {
        assertThat(call.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      }
      assertThat(origin.requests()).hasSize(200);
      // The retired pools' connections closed once their streams ended: one live pool's remain.
      await().atMost(Duration.ofSeconds(5)).until(
          () -> origin.openConnections() <= Runtime.getRuntime().availableProcessors());
    }
  }

  @Test
  void tls_with_alpn_h2_and_an_http2_health_check(@TempDir Path dir) throws Exception {
    TestCerts certs = TestCerts.selfSigned(dir);
    try (H2Origin origin = H2Origin.startTls(certs);
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: all, cluster: grpc } ]
            clusters:
              - name: grpc
                protocol: h2
                endpoints: ["${ORIGIN}"]
                tls: { ca: "${CERT}", sni: localhost }
                healthCheck: { path: /healthz, interval: 300ms, timeout: 300ms }
            """, Map.of("ORIGIN", origin.address(), "CERT", certs.certificate().toString()))) {
      await().atMost(Duration.ofSeconds(10)).until(() -> origin.requests().stream()
          .anyMatch(r -> "/healthz".equals(r.get(":path")) && "gatehouse-health-check".equals(r.get("user-agent"))));
      HttpResponse<String> response = ProxyUnderTest.httpClient().send(
          HttpRequest.newBuilder(proxy.uri("/secure")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("origin /secure");
      H2Origin.Request seen = origin.requests().stream().filter(r -> "/secure".equals(r.get(":path"))).findFirst()
          .orElseThrow();
      assertThat(seen.get(":scheme")).isEqualTo("https");
    }
  }

  @Test
  void a_tls_endpoint_that_does_not_choose_h2_is_a_502_and_a_warning_naming_alpn(@TempDir Path dir) throws Exception {
    TestCerts certs = TestCerts.selfSigned(dir);
    try (PoolLog log = new PoolLog();
        H2Origin origin = H2Origin.startTls(certs, "http/1.1");
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: all, cluster: grpc } ]
            clusters: [ { name: grpc, protocol: h2, endpoints: ["${ORIGIN}"], tls: { ca: "${CERT}", sni: localhost } } ]
            """, Map.of("ORIGIN", origin.address(), "CERT", certs.certificate().toString()))) {
      HttpResponse<String> response = ProxyUnderTest.httpClient().send(
          HttpRequest.newBuilder(proxy.uri("/x")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(502);
      await().atMost(Duration.ofSeconds(5)).until(() -> !log.lines().isEmpty());
      assertThat(log.lines().get(0).getFormattedMessage()).contains("did not choose HTTP/2 over ALPN");
      assertThat(origin.requests()).isEmpty();
    }
  }

  @Test
  void an_http1_only_origin_is_a_502_and_one_warning_that_says_why() throws Exception {
    try (PoolLog log = new PoolLog();
        io.gatehouse.testing.FakeUpstream http1 = io.gatehouse.testing.FakeUpstream.start("h1");
        ProxyUnderTest proxy = ProxyUnderTest.start(CLUSTER, Map.of("ORIGIN", http1.address()))) {
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> response = ProxyUnderTest.httpClient().send(
            HttpRequest.newBuilder(proxy.uri("/x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(502);
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> !log.lines().isEmpty());
      // Whether the server's 400 was read (a frame that fails to parse) or lost to the reset our unread
      // frames caused, the warning says the same thing.
      assertThat(log.lines().get(0).getFormattedMessage()).startsWith("HTTP/2 connection to /" + http1.address() + " failed")
          .contains("does not seem to speak HTTP/2");
      // Rate-limited: one line per pool (event loop and endpoint) per 10 s, not one per request.
      assertThat(log.lines()).hasSizeLessThanOrEqualTo(Runtime.getRuntime().availableProcessors());
    }
  }

  /**
   * An endpoint that resets the connection as soon as the preface arrives, without a byte of answer
   * (as an HTTP/1.1 server's 400 can be lost to the reset our unread frames cause): the warning still
   * says why, from the missing SETTINGS (RFC 9113 §3.4), not only when a frame fails to parse. Here
   * the reset usually fails the write that follows the preface, before the connection is ready and
   * with no exception fired: the warning must not depend on either.
   */
  @Test
  void an_endpoint_that_resets_before_any_settings_is_a_502_and_a_warning_that_says_why() throws Exception {
    try (PoolLog log = new PoolLog();
        java.net.ServerSocket resets = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      Thread acceptor = new Thread(() -> {
        while (!resets.isClosed()) {
          try (java.net.Socket s = resets.accept()) {
            s.getInputStream().read(new byte[24]); // the client preface's first bytes
            s.setSoLinger(true, 0); // close with RST
          } catch (java.io.IOException e) {
            return;
          }
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      try (ProxyUnderTest proxy = ProxyUnderTest.start(CLUSTER, Map.of("ORIGIN", "127.0.0.1:" + resets.getLocalPort()))) {
        HttpResponse<String> response = ProxyUnderTest.httpClient().send(
            HttpRequest.newBuilder(proxy.uri("/x")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(502);
        await().atMost(Duration.ofSeconds(5)).until(() -> !log.lines().isEmpty());
        assertThat(log.lines().get(0).getFormattedMessage())
            .startsWith("HTTP/2 connection to /127.0.0.1:" + resets.getLocalPort() + " failed")
            .contains("before the peer's SETTINGS frame");
      }
    }
  }

  private static final String PINGED = """
      listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
      routes: [ { name: all, cluster: grpc } ]
      clusters: [ { name: grpc, protocol: h2, endpoints: ["${ORIGIN}"], timeouts: { response: 30s },
                    pool: { pingInterval: 200ms, pingTimeout: 400ms } } ]
      """;

  @Test
  void a_quiet_connection_that_answers_its_pings_is_kept() throws Exception {
    try (H2Origin origin = H2Origin.start();
        ProxyUnderTest proxy = ProxyUnderTest.start(PINGED, Map.of("ORIGIN", origin.address()))) {
      // 1.5 s without a frame on a stream: several PINGs, each answered.
      HttpResponse<String> slow = ProxyUnderTest.httpClient().send(
          HttpRequest.newBuilder(proxy.uri("/slow/1500")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(slow.statusCode()).isEqualTo(200);
      assertThat(origin.connections()).isEqualTo(1);
    }
  }

  @Test
  void a_peer_that_stops_answering_pings_is_cut_and_the_next_request_gets_a_new_connection() throws Exception {
    try (PoolLog log = new PoolLog();
        H2Origin origin = H2Origin.start();
        ProxyUnderTest proxy = ProxyUnderTest.start(PINGED, Map.of("ORIGIN", origin.address()))) {
      HttpClient client = ProxyUnderTest.httpClient();
      CompletableFuture<HttpResponse<String>> pending = client.sendAsync(
          HttpRequest.newBuilder(proxy.uri("/slow/20000")).build(), HttpResponse.BodyHandlers.ofString());
      await().atMost(Duration.ofSeconds(5)).until(() -> origin.requests().size() == 1);
      origin.freezeOpenConnections(); // gone silently: no FIN, no RST, no PING acknowledged
      long start = System.nanoTime();
      HttpResponse<String> cut = pending.get(10, TimeUnit.SECONDS); // not the 20 s answer, nor the 30 s timeout
      assertThat(cut.statusCode()).isEqualTo(502);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
      assertThat(log.lines()).anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("PING"));

      HttpResponse<String> next = client.send(HttpRequest.newBuilder(proxy.uri("/after")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(next.body()).isEqualTo("origin /after");
      assertThat(origin.connections()).isEqualTo(2);
    }
  }

  /** What the HTTP/2 pools log while it is open. */
  private static final class PoolLog implements AutoCloseable {
    private final ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger)
        org.slf4j.LoggerFactory.getLogger(io.gatehouse.pool.Http2ConnectionPool.class);
    private final ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
        new ch.qos.logback.core.read.ListAppender<>();

    PoolLog() {
      appender.start();
      logger.addAppender(appender);
    }

    List<ch.qos.logback.classic.spi.ILoggingEvent> lines() {
      return appender.list;
    }

    @Override
    public void close() {
      logger.detachAppender(appender);
    }
  }
}
