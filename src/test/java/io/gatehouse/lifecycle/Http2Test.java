package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.Reply;
import io.gatehouse.testing.TestCerts;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** HTTP/2 to clients over TLS (ALPN h2), HTTP/1.1 to the upstream. */
@Timeout(30)
class Http2Test {
  @TempDir Path dir;
  private FakeUpstream origin;
  private GatehouseServer proxy;
  private TestCerts certs;
  private HttpClient client;

  @BeforeEach
  void start() throws Exception {
    certs = TestCerts.selfSigned(dir);
    origin = FakeUpstream.start("a");
    proxy = startProxy("accessLog: { enabled: true, format: combined, path: " + dir.resolve("access.log") + " }");
    client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).sslContext(certs.clientSslContext())
        .connectTimeout(Duration.ofSeconds(5)).build();
  }

  /** A TLS listener offering h2 and HTTP/1.1 in front of the origin, with {@code extra} (a YAML line). */
  private GatehouseServer startProxy(String extra) throws Exception {
    return GatehouseServer.start(ConfigLoader.parse(extra + """

        admin: { bind: 127.0.0.1:0 }
        listeners:
          - name: public
            bind: 127.0.0.1:0
            mode: reverse
            tls: { certificates: [ { cert: %s, key: %s } ], alpn: [h2, http/1.1] }
        routes: [ { name: all, cluster: c } ]
        clusters: [ { name: c, endpoints: [ "%s" ] } ]
        """.formatted(certs.certificate(), certs.privateKey(), origin.address()), "test.yaml", Map.of()));
  }

  @AfterEach
  void stop() {
    proxy.close();
    origin.close();
  }

  private URI uri(String path) {
    return URI.create("https://localhost:" + proxy.address("public").getPort() + path);
  }

  @Test
  void servesConcurrentStreamsOverOneConnection() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      futures.add(client.sendAsync(HttpRequest.newBuilder(uri("/s" + i)).build(), HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> f : futures) {
      HttpResponse<String> response = f.get();
      assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("a");
    }
    assertThat(origin.requests()).hasSize(20);
    assertThat(origin.requests()).allSatisfy(r -> {
      assertThat(r.headers().get("host")).startsWith("localhost:");
      assertThat(r.headers().names()).noneMatch(n -> n.toLowerCase().startsWith("x-http2"));
      assertThat(r.headers().get("x-forwarded-proto")).isEqualTo("https");
    });
  }

  /**
   * The idle close as a pooled client (java.net.http) sees it: GOAWAY NO_ERROR, the FIN, and for a
   * client that has not closed its side 2 s later a reset. Its next request, inside that grace or
   * well past it, goes on a new connection and succeeds: the close costs no request, and logs
   * nothing above INFO (a client that closed at once on the GOAWAY made the FIN's shutdown fail
   * with ENOTCONN, which escaped as a WARN with a stack trace).
   */
  @Test
  void aPooledClientsNextRequestAfterAnIdleCloseSucceeds() throws Exception {
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log = new ch.qos.logback.core.read.ListAppender<>();
    ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    log.start();
    root.addAppender(log);
    try (GatehouseServer idle = startProxy("limits: { idleTimeout: 1s }")) {
      URI uri = URI.create("https://localhost:" + idle.address("public").getPort() + "/again");
      for (long pause : new long[] {1500, 4000, 0}) { // inside the FIN's grace, then past the reset
        HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
        Thread.sleep(pause);
      }
      assertThat(idle.openConnections().get("public")).as("the last one, open").isEqualTo(1L);
    } finally {
      root.detachAppender(log);
    }
    assertThat(List.copyOf(log.list)).filteredOn(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN))
        .extracting(e -> e.getLoggerName() + ": " + e.getFormattedMessage()).isEmpty();
  }

  @Test
  void streamsRequestAndResponseBodies() throws Exception {
    origin.respond(head -> Reply.echo());
    String body = "x".repeat(300_000);
    HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri("/echo"))
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo(body);
  }

  /**
   * An upstream that takes the body late: the stream's window, given back as the upstream's socket
   * takes more (outside any read of the client's connection), reaches the client, and the whole
   * upload arrives.
   */
  @Test
  void anUploadToAnUpstreamThatReadsLateArrivesWhole() throws Exception {
    int size = 16 * 1024 * 1024;
    try (java.net.ServerSocket late = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      CompletableFuture<Long> upstream = CompletableFuture.supplyAsync(() -> {
        try (java.net.Socket s = late.accept()) {
          s.setSoTimeout(20_000);
          java.io.InputStream in = s.getInputStream();
          StringBuilder head = new StringBuilder();
          while (!head.toString().endsWith("\r\n\r\n")) {
            head.append((char) in.read());
          }
          long length = Long.parseLong(head.toString().toLowerCase().split("content-length: ")[1].split("\r\n")[0]);
          Thread.sleep(1500); // the upstream socket fills, the proxy stops taking the stream's DATA
          long n = in.readNBytes((int) length).length;
          s.getOutputStream().write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
          return n;
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      proxy.close();
      proxy = GatehouseServer.start(ConfigLoader.parse("""
          admin: { bind: 127.0.0.1:0 }
          limits: { maxBodyBytes: 64MiB }
          listeners:
            - name: public
              bind: 127.0.0.1:0
              mode: reverse
              tls: { certificates: [ { cert: %s, key: %s } ], alpn: [h2, http/1.1] }
          routes: [ { name: all, cluster: c, timeout: 20s } ]
          clusters: [ { name: c, endpoints: [ "127.0.0.1:%d" ] } ]
          """.formatted(certs.certificate(), certs.privateKey(), late.getLocalPort()), "test.yaml", Map.of()));
      HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri("/up")).timeout(Duration.ofSeconds(20))
          .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[size])).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
      assertThat(upstream.get(20, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo(size);
    }
  }

  @Test
  void localRepliesWorkOnStreams() throws Exception {
    origin.kill();
    HttpResponse<String> response = client.send(HttpRequest.newBuilder(uri("/x")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(response.statusCode()).isEqualTo(502);
  }

  /**
   * A stream is converted to an HTTP/1.1 head inside, but the client spoke HTTP/2: the access log's
   * {@code $request} says {@code HTTP/2.0} (as nginx's does) and the upstream's {@code Via} names the
   * received protocol, {@code 2.0} (RFC 9110 §7.6.3, §2.5: minor version 0 implied). The response's
   * {@code Via} names what the proxy received from the upstream: HTTP/1.1. An HTTP/1.1 client on the
   * same listener keeps {@code HTTP/1.1} everywhere; {@code X-Forwarded-Proto} is the scheme either way.
   */
  @Test
  void theLogAndViaSayWhichProtocolTheClientSpoke() throws Exception {
    HttpResponse<String> h2 = client.send(HttpRequest.newBuilder(uri("/two")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(h2.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(h2.headers().firstValue("via")).contains("1.1 gatehouse");
    assertThat(origin.lastRequest().header("Via")).isEqualTo("2.0 gatehouse");
    assertThat(origin.lastRequest().header("X-Forwarded-Proto")).isEqualTo("https");
    HttpClient h1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(certs.clientSslContext())
        .connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> one = h1.send(HttpRequest.newBuilder(uri("/one")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(one.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    assertThat(origin.lastRequest().header("Via")).isEqualTo("1.1 gatehouse");
    assertThat(origin.lastRequest().header("X-Forwarded-Proto")).isEqualTo("https");
    Path log = dir.resolve("access.log");
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(log) && Files.readAllLines(log).size() >= 2);
    assertThat(Files.readAllLines(log)).satisfiesExactly(
        l -> assertThat(l).contains("\"GET /two HTTP/2.0\" 200 1 "),
        l -> assertThat(l).contains("\"GET /one HTTP/1.1\" 200 1 "));
  }

  @Test
  void http1ClientsStillWork() throws Exception {
    HttpClient h1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(certs.clientSslContext()).build();
    HttpResponse<String> response = h1.send(HttpRequest.newBuilder(uri("/one")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    assertThat(response.statusCode()).isEqualTo(200);
  }
}
