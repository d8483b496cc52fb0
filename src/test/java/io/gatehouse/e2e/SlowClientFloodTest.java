package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.Reply;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * With the default limits, slow-body (R.U.D.Y.) and slow-read clients holding their connections
 * do not starve a normal client on the same route: the small slow bodies hold no upstream
 * connection (they are buffered), the slow readers hold one each but the pool has no small cap.
 * Before that, past {@code pool.maxConnections} (was 256 per event loop) every other request
 * waited 5 s for a connection and got 503.
 *
 * <p>Test-sized: {@value #DEFAULT_EACH} of each kind (override with {@code
 * -Dgatehouse.test.slowClients=N}) against a proxy with one event loop, so that together they pass
 * the old cap of 256 connections per event loop and endpoint. Not 500 + 500: each slow reader
 * makes the kernel buffer 1-2 MB on loopback (64 KiB MSS), which is too much for a shared 2-core
 * box. Everything on loopback, every loop bounded.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SlowClientFloodTest {
  private static final int DEFAULT_EACH = 150;
  private static final int EACH = Integer.getInteger("gatehouse.test.slowClients", DEFAULT_EACH);
  /** Liveness, not a benchmark: a normal request must not wait for a connection to free up. */
  private static final Duration LIVENESS = Duration.ofSeconds(1);

  private FakeUpstream origin;
  private ProxyUnderTest proxy;
  private final List<Socket> slow = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    origin = FakeUpstream.start("origin");
    origin.respond(head -> head.uri().startsWith("/download")
        ? Reply.stream(256L * 1024 * 1024) // far more than the socket buffers hold on the way
        : Reply.ok().body("fine"));
    // Defaults under test: no limits section, no pool section.
    String threads = System.getProperty("gatehouse.threads");
    System.setProperty("gatehouse.threads", "1");
    try {
      proxy = ProxyUnderTest.start("""
          listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
          routes: [ { name: all, cluster: origin } ]
          clusters: [ { name: origin, endpoints: ["${ORIGIN}"] } ]
          """, Map.of("ORIGIN", origin.address()));
    } finally {
      if (threads == null) {
        System.clearProperty("gatehouse.threads");
      } else {
        System.setProperty("gatehouse.threads", threads);
      }
    }
  }

  @AfterEach
  void stop() {
    for (Socket s : slow) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
    proxy.close();
    origin.close();
  }

  private Socket open(boolean smallReceiveBuffer) throws IOException {
    Socket s = new Socket();
    if (smallReceiveBuffer) {
      s.setReceiveBufferSize(4096); // before connect, so the window stays small
    }
    s.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 5000);
    slow.add(s);
    return s;
  }

  private static void send(Socket s, String text) throws IOException {
    OutputStream out = s.getOutputStream();
    out.write(text.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  private long activeClientConnections() {
    String prefix = "gatehouse_connections_active{listener=\"web\"} ";
    return proxy.metrics().scrape().lines().filter(l -> l.startsWith(prefix))
        .mapToLong(l -> (long) Double.parseDouble(l.substring(prefix.length()))).findFirst().orElse(0);
  }

  @Test
  void normal_requests_succeed_while_slow_clients_hold_their_connections() throws Exception {
    HttpClient http = ProxyUnderTest.httpClient();
    // warm-up, unbounded: the JDK client's first request loads and starts a good deal
    assertThat(http.send(HttpRequest.newBuilder(proxy.uri("/warm")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

    for (int i = 0; i < EACH; i++) { // slow body: the head and one byte of a 10 000 byte body
      send(open(false), "POST /upload/" + i + " HTTP/1.1\r\nHost: a\r\nContent-Length: 10000\r\n\r\nx");
    }
    for (int i = 0; i < EACH; i++) { // slow read: asks for 256 MiB and reads none of it
      send(open(true), "GET /download/" + i + " HTTP/1.1\r\nHost: a\r\n\r\n");
    }
    // every slow reader holds an upstream connection, mid-response
    await().atMost(Duration.ofSeconds(60)).until(() -> origin.openConnections() >= EACH);
    // Until each slow reader's socket buffers are full (megabytes each on loopback), the proxy is
    // busy filling them; from then on the slow clients only hold their connections. Well inside
    // limits.minRateWindow (20 s), before the minimum rates would start cutting the slow clients.
    await().atMost(Duration.ofSeconds(12)).ignoreExceptions().until(() -> http.send(
        HttpRequest.newBuilder(proxy.uri("/settled")).timeout(LIVENESS).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode() == 200);

    for (int i = 0; i < 20; i++) {
      HttpRequest request = i % 2 == 0
          ? HttpRequest.newBuilder(proxy.uri("/normal/" + i)).timeout(LIVENESS).build()
          : HttpRequest.newBuilder(proxy.uri("/normal/" + i)).timeout(LIVENESS)
              .POST(HttpRequest.BodyPublishers.ofString("form=" + i)).build();
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as("request %d", i).isEqualTo(200);
      assertThat(response.body()).isEqualTo("fine");
    }

    // ...and they did so while the slow clients were still there
    assertThat(origin.openConnections()).isGreaterThanOrEqualTo(EACH);
    assertThat(activeClientConnections()).as("the slow clients are all still connected").isGreaterThan(2 * EACH);
    assertThat(proxy.metrics().localReplies("overloaded")).isZero();
    assertThat(origin.requests()).filteredOn(r -> r.uri().startsWith("/upload"))
        .as("slow small bodies are buffered, not sent upstream").isEmpty();
  }
}
