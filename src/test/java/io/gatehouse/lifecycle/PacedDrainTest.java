package io.gatehouse.lifecycle;

import static io.gatehouse.testing.RawH2Client.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawH2Client;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.Reply;
import io.gatehouse.testing.TestCerts;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The paced drain of a stopping proxy (the same drain a hand-off runs in the old process): idle
 * keep-alive connections close spread over {@code limits.closeSpread}, a keep-alive connection in
 * use closes after its next response, HTTP/2 gets GOAWAY (first 2^31-1, then the last stream) and
 * its open streams finish, tunnels stay until their listener's {@code drainTimeout} ({@code 0}: no
 * deadline), and {@code /ready} answers 503 from the start.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PacedDrainTest {
  @TempDir Path dir;
  private FakeUpstream origin;
  private ProxyUnderTest proxy;
  private CompletableFuture<Void> stopping;

  @BeforeEach
  void startOrigin() {
    origin = FakeUpstream.start("origin");
  }

  @AfterEach
  void stop() throws Exception {
    if (stopping != null) {
      stopping.get(30, TimeUnit.SECONDS);
    }
    if (proxy != null) {
      proxy.close();
    }
    origin.close();
  }

  private void startProxy(String yaml) throws Exception {
    proxy = ProxyUnderTest.start(yaml.replace("${ORIGIN}", origin.address()));
  }

  /** One plain HTTP/1.1 reverse listener to the origin; {@code drainTimeout} 20 s. */
  private void startPlainReverseProxy(String closeSpread) throws Exception {
    startProxy("""
        limits: { closeSpread: %s, drainTimeout: 20s }
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes: [ { name: all, cluster: c } ]
        clusters: [ { name: c, endpoints: ["${ORIGIN}"] } ]
        """.formatted(closeSpread));
  }

  private void stopInBackground() {
    stopping = CompletableFuture.runAsync(() -> proxy.server().stop());
  }

  @Test
  void idle_keep_alive_connections_close_spread_over_the_window_and_a_used_one_is_served_until_it_closes()
      throws Exception {
    startPlainReverseProxy("6s");
    List<RawHttpClient> clients = new ArrayList<>();
    try {
      for (int i = 0; i < 12; i++) {
        RawHttpClient client = proxy.connect().timeout(Duration.ofSeconds(15));
        client.send("GET /warm HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(200);
        clients.add(client);
      }
      stopInBackground();
      await().atMost(Duration.ofSeconds(10)).until(() -> closedCount(clients) > 0);
      List<RawHttpClient> open = new ArrayList<>();
      for (RawHttpClient c : clients) {
        if (!c.isClosedByPeer()) {
          open.add(c);
        }
      }
      assertThat(open).as("idle connections are not all closed at once").isNotEmpty();

      // Still open: before its slot it is served as before; from its slot an answer closes it.
      RawHttpClient used = open.get(open.size() - 1);
      used.send("GET /late HTTP/1.1\r\nHost: a\r\n\r\n");
      RawResponse response = used.readResponse();
      assertThat(response.status()).isEqualTo(200);
      if ("close".equalsIgnoreCase(response.header("Connection"))) {
        assertThat(used.readAllUntilClose()).isEmpty();
      }

      await().atMost(Duration.ofSeconds(15)).until(() -> closedCount(clients) == clients.size());
      stopping.get(10, TimeUnit.SECONDS);
    } finally {
      for (RawHttpClient c : clients) {
        c.close();
      }
    }
  }

  /**
   * Clients in a request loop (50 ms apart) through a drain: each is served until its slot in the
   * spread, then gets {@code Connection: close} on an answer, never a close between two requests
   * (the keep-alive race, RFC 9112 §9.3.1: a client that does not resend, a POST or wrk, would lose
   * that request), and the slots spread them: a takeover's successor gets them one after the other.
   */
  @Test
  void clients_in_a_request_loop_are_served_until_their_slot_then_closed_on_an_answer_never_between_requests()
      throws Exception {
    startPlainReverseProxy("3s");
    int loops = 6;
    java.util.concurrent.CountDownLatch running = new java.util.concurrent.CountDownLatch(loops);
    List<CompletableFuture<Long>> closedAt = new ArrayList<>();
    for (int i = 0; i < loops; i++) {
      RawHttpClient client = proxy.connect().timeout(Duration.ofSeconds(10));
      closedAt.add(CompletableFuture.supplyAsync(() -> {
        try (client) {
          for (int n = 0; ; n++) {
            if (n == 3) {
              running.countDown();
            }
            client.send("GET /loop HTTP/1.1\r\nHost: a\r\n\r\n");
            RawResponse response;
            try {
              response = client.readResponse();
            } catch (IOException e) {
              throw new AssertionError("request " + n + " got no answer: " + e);
            }
            if ("close".equalsIgnoreCase(response.header("Connection"))) {
              assertThat(n).as("closed before the drain").isGreaterThanOrEqualTo(3);
              return System.nanoTime();
            }
            Thread.sleep(50);
          }
        } catch (IOException | InterruptedException e) {
          throw new AssertionError(e);
        }
      }));
    }
    assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();
    long drainStart = System.nanoTime();
    stopInBackground();
    List<Long> millis = new ArrayList<>();
    for (CompletableFuture<Long> at : closedAt) {
      millis.add(TimeUnit.NANOSECONDS.toMillis(at.get(15, TimeUnit.SECONDS) - drainStart));
    }
    // Slots 0, 0.5 s, ... 2.5 s: the first within a request or two, the last ~2.5 s later.
    assertThat(java.util.Collections.min(millis)).as("%s", millis).isLessThan(1000);
    assertThat(java.util.Collections.max(millis)).as("%s", millis).isGreaterThan(1800);
  }

  private static int closedCount(List<RawHttpClient> clients) throws IOException {
    int closed = 0;
    for (RawHttpClient c : clients) {
      if (c.isClosedByPeer()) {
        closed++;
      }
    }
    return closed;
  }

  @Test
  void http2_gets_goaway_and_its_open_stream_finishes() throws Exception {
    TestCerts certs = TestCerts.selfSigned(dir);
    origin.respond(head -> Reply.ok().body("finished").firstByteDelay(Duration.ofMillis(1500)));
    startTlsProxy(certs, "drainTimeout: 20s");
    try (RawH2Client h2 = RawH2Client.connect(proxy.port(), certs)) {
      h2.timeout(Duration.ofSeconds(15));
      h2.headers(1, true, request("GET", "/slow", "localhost"));
      await().atMost(Duration.ofSeconds(5)).until(() -> origin.requests().size() == 1);
      stopInBackground();
      assertStreamOneFinishesAfterTwoGoAways(h2);
    }
    stopping.get(10, TimeUnit.SECONDS);
  }

  /**
   * Without a drain deadline ({@code drainTimeout: 0}) a stream open when its connection's slot comes
   * finishes however long it takes, on every connection, the ones whose GOAWAY waits for a later slot
   * too (once, their remaining bound came out as 1 ns: the stream was cut 1 ms after the close).
   * Spread 2 s over two connections: slots 0 and 1 s, final GOAWAYs at 0.5 and 1.5 s; the answers come
   * at 2.5 s.
   */
  @Test
  void http2_streams_outlive_a_later_slot_when_the_drain_has_no_deadline() throws Exception {
    TestCerts certs = TestCerts.selfSigned(dir);
    origin.respond(head -> Reply.ok().body("finished").firstByteDelay(Duration.ofMillis(2500)));
    startTlsProxy(certs, "drainTimeout: 0, closeSpread: 2s");
    try (RawH2Client first = RawH2Client.connect(proxy.port(), certs);
        RawH2Client second = RawH2Client.connect(proxy.port(), certs)) {
      List<CompletableFuture<Void>> finished = new ArrayList<>();
      for (RawH2Client h2 : List.of(first, second)) {
        h2.timeout(Duration.ofSeconds(15));
        h2.headers(1, true, request("GET", "/slow", "localhost"));
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> origin.requests().size() == 2);
      stopInBackground();
      for (RawH2Client h2 : List.of(first, second)) {
        finished.add(CompletableFuture.runAsync(() -> {
          try {
            assertStreamOneFinishesAfterTwoGoAways(h2);
          } catch (IOException e) {
            throw new AssertionError(e);
          }
        }));
      }
      CompletableFuture.allOf(finished.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
    }
    stopping.get(10, TimeUnit.SECONDS);
  }

  /** One TLS reverse listener offering h2, to the origin, with {@code limits} given. */
  private void startTlsProxy(TestCerts certs, String limits) throws Exception {
    startProxy("""
        limits: { %s }
        listeners:
          - name: public
            bind: 127.0.0.1:0
            mode: reverse
            tls: { certificates: [ { cert: %s, key: %s } ], alpn: [h2, http/1.1] }
        routes: [ { name: all, cluster: c } ]
        clusters: [ { name: c, endpoints: ["${ORIGIN}"] } ]
        """.formatted(limits, certs.certificate(), certs.privateKey()));
  }

  /** Reads to the end of the connection: stream 1 answered whole, never reset, and two GOAWAYs (§6.8). */
  private static void assertStreamOneFinishesAfterTwoGoAways(RawH2Client h2) throws IOException {
    List<RawH2Client.Frame> frames = new ArrayList<>();
    for (RawH2Client.Frame f = h2.next(); f != null; f = h2.next()) {
      frames.add(f);
    }
    List<Integer> goAwayLastStreams = new ArrayList<>();
    String status = null;
    StringBuilder body = new StringBuilder();
    boolean ended = false;
    for (RawH2Client.Frame f : frames) {
      if (f.type() == RawH2Client.GOAWAY) {
        assertThat(f.errorCode()).as("GOAWAY NO_ERROR").isZero();
        goAwayLastStreams.add(ByteBuffer.wrap(f.payload()).getInt() & 0x7fffffff);
      } else if (f.streamId() == 1 && f.type() == RawH2Client.HEADERS) {
        status = f.headers().status().toString();
        ended |= f.endStream();
      } else if (f.streamId() == 1 && f.type() == RawH2Client.DATA) {
        body.append(new String(f.payload(), java.nio.charset.StandardCharsets.UTF_8));
        ended |= f.endStream();
      }
      assertThat(f.type()).as("no stream is reset: %s", frames).isNotEqualTo(RawH2Client.RST_STREAM);
    }
    assertThat(goAwayLastStreams).as("RFC 9113 §6.8: 2^31-1 first, then the last stream").containsExactly(
        Integer.MAX_VALUE, 1);
    assertThat(status).as("%s", frames).isEqualTo("200");
    assertThat(body.toString()).isEqualTo("finished");
    assertThat(ended).isTrue();
  }

  @Test
  void a_tunnel_stays_past_other_listeners_deadline_when_its_listener_waits_and_ready_says_503() throws Exception {
    String forward = """
            forward:
              connectPorts: [%d]
              blockPrivateDestinations: false
              rules: [ { allow: { hosts: ["127.0.0.1"] } } ]
        """.formatted(origin.port());
    startProxy("""
        limits: { drainTimeout: 300ms, closeSpread: 0 }
        listeners:
          - name: waits
            bind: 127.0.0.1:0
            mode: forward
            drainTimeout: 0
        %s
          - name: cuts
            bind: 127.0.0.1:0
            mode: forward
        %s
        """.formatted(forward, forward));
    try (RawHttpClient kept = tunnel(proxy.port("waits")); RawHttpClient cut = tunnel(proxy.port("cuts"))) {
      stopInBackground();
      assertThat(ready()).isEqualTo(503);
      await().atMost(Duration.ofSeconds(10)).until(cut::isClosedByPeer);

      kept.send("GET /still HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(kept.readResponse().status()).as("the tunnel of a listener with drainTimeout 0 still relays")
          .isEqualTo(200);
      assertThat(stopping).as("the stop waits for that tunnel").isNotDone();
      assertThat(ready()).isEqualTo(503);
    }
    stopping.get(10, TimeUnit.SECONDS);
  }

  private RawHttpClient tunnel(int port) throws IOException {
    RawHttpClient client = RawHttpClient.connect(port).timeout(Duration.ofSeconds(10));
    String target = "127.0.0.1:" + origin.port();
    client.send("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n");
    assertThat(client.readResponse("CONNECT").status()).isEqualTo(200);
    client.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n");
    assertThat(client.readResponse().status()).isEqualTo(200);
    return client;
  }

  private int ready() throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + proxy.server().adminAddress().getPort() + "/ready");
    return ProxyUnderTest.httpClient()
        .send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString())
        .statusCode();
  }
}
