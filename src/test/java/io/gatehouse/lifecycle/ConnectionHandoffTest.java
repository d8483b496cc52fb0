package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.FreePorts;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.Reply;
import io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restart closes no plain HTTP/1.1 keep-alive connection: at a {@code --takeover}, each one moves
 * to the successor between two requests (its socket, nothing read of a next request), so a client
 * in a request loop never sees {@code Connection: close} or a close, an idle client's next request
 * is answered by the successor on the same connection, and the old process exits as soon as the
 * connections moved. Where the successor does not take them, they drain as before.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ConnectionHandoffTest {
  /** A stream of events that lasts ~6 s: in flight through the whole takeover. */
  private static final String[] EVENTS = java.util.stream.IntStream.range(0, 300)
      .mapToObj(i -> "data: event " + i + " " + "x".repeat(i % 97) + "\n\n").toArray(String[]::new);
  private static final Duration EVENT_GAP = Duration.ofMillis(20);
  /** ~12 s of events: in flight through two takeovers. */
  private static final String[] LONG_EVENTS = java.util.stream.IntStream.range(0, 600)
      .mapToObj(i -> "data: long event " + i + "\n\n").toArray(String[]::new);
  /**
   * A download its client reads slowly (~3 MiB/s): ~12 s, most of it waiting in the proxy's and the
   * kernel's buffers. Long enough to outlive a drain whose freezes a slow reader makes wait (a freeze
   * needs what the proxy read written out within 200 ms, else it is tried again 250 ms later): at 16
   * MiB a loaded CI host once saw one download end in the old process before it could move.
   */
  private static final long BIG = 40L << 20;

  @TempDir Path dir;
  private GatehouseProcesses processes;
  private FakeUpstream origin;
  private Path config;
  private int web;
  private int adminPort;

  @BeforeEach
  void setUp() throws Exception {
    assumeThat(Epoll.isAvailable()).as("the hand-off needs the epoll transport").isTrue();
    processes = new GatehouseProcesses(dir);
    origin = FakeUpstream.start("origin").respond(head -> head.uri().startsWith("/slow")
        ? Reply.slow(Duration.ofMillis(1500))
        : head.uri().startsWith("/events/chunked") ? Reply.status(200).chunks(EVENTS).chunkDelay(EVENT_GAP)
        : head.uri().startsWith("/events/length") ? Reply.status(200).chunks(EVENTS).chunkDelay(EVENT_GAP).lengthDelimited()
        : head.uri().startsWith("/events/long") ? Reply.status(200).chunks(LONG_EVENTS).chunkDelay(EVENT_GAP)
        : head.uri().startsWith("/events/close") ? Reply.status(200).chunks(EVENTS).chunkDelay(EVENT_GAP).closeDelimited()
        : head.uri().startsWith("/big/length") ? Reply.stream(BIG)
        : head.uri().startsWith("/big/chunked") ? Reply.stream(BIG).chunked()
        : Reply.ok());
    web = FreePorts.take();
    adminPort = FreePorts.take();
    config = dir.resolve("g.yaml");
    // The drain deadline is far beyond the test's waits: an old process that exits in time let its
    // connections go to the successor; closing them would have taken the idle grace, moving nothing.
    Files.writeString(config, """
        admin: { bind: 127.0.0.1:%d }
        limits: { drainTimeout: 90s, closeSpread: 300ms }
        accessLog: { path: %s, format: json }
        listeners:
          - name: web
            bind: 127.0.0.1:%d
            mode: reverse
            proxyProtocol: { trustedFrom: [ 127.0.0.2 ] }
        routes: [ { name: all, cluster: app } ]
        clusters: [ { name: app, endpoints: [ "%s" ] } ]
        """.formatted(adminPort, dir.resolve("access.log"), web, origin.address()));
  }

  @AfterEach
  void tearDown() throws IOException {
    if (processes != null) {
      processes.close();
    }
    if (origin != null) {
      origin.close();
    }
  }

  @Test
  void keep_alive_connections_move_to_the_successor_and_their_clients_never_see_a_close() throws Exception {
    Process old = startServing("old");
    try (RequestLoop busy = new RequestLoop(RawHttpClient.connect(web));
        RawHttpClient idle = RawHttpClient.connect(web);
        RawHttpClient slow = RawHttpClient.connect(web);
        RawHttpClient proxied = RawHttpClient.connectFrom("127.0.0.2", web)) {
      assertKeptAlive(get(idle, "/before"));
      proxied.send("PROXY TCP4 203.0.113.7 127.0.0.1 40000 80\r\n");
      assertKeptAlive(get(proxied, "/before"));
      await().atMost(Duration.ofSeconds(10)).until(() -> busy.answered() > 10);
      // A response in flight when the drain reaches its connection: the connection moves after it.
      slow.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");

      Process successor = processes.start("new", "run", "-c", config.toString(), "--takeover");
      assertKeptAlive(slow.timeout(Duration.ofSeconds(10)).readResponse());
      assertThat(old.waitFor(60, TimeUnit.SECONDS))
          .as("the old process is done once its connections moved, long before its 90 s drain deadline; %s",
              processes.log("old"))
          .isTrue();
      assertThat(old.exitValue()).isZero();
      assertThat(processes.log("old")).contains("hand-off: 4 keep-alive connections moved to the successor");
      assertThat(processes.log("new")).contains("took over 0 tunnels and 4 keep-alive connections");
      assertThat(metrics()).contains("gatehouse_connections_taken_over_total{listener=\"web\"} 4.0");

      // Every connection is the successor's now, and serves on.
      int atExit = busy.answered();
      await().atMost(Duration.ofSeconds(10)).until(() -> busy.answered() > atExit + 10);
      assertThat(busy.stop()).as("the loop's failures").isEmpty();
      assertKeptAlive(get(idle, "/after"));
      assertKeptAlive(get(slow, "/after"));
      origin.clearRequests();
      assertKeptAlive(get(proxied, "/after"));
      RecordedRequest after = origin.lastRequest();
      assertThat(after.header("X-Forwarded-For"))
          .as("the client the PROXY header named, carried to the successor with the socket").isEqualTo("203.0.113.7");
      assertThat(successor.isAlive()).isTrue();
    }
  }

  @Test
  void responses_in_flight_move_with_their_connection_and_arrive_whole() throws Exception {
    Process old = startServing("old");
    String expected = String.join("", EVENTS);
    List<String> framings = List.of("chunked", "length", "close");
    java.util.Map<String, RawHttpClient> clients = new java.util.LinkedHashMap<>();
    java.util.Map<String, java.util.concurrent.CompletableFuture<RawResponse>> responses = new java.util.LinkedHashMap<>();
    try {
      for (String framing : framings) {
        RawHttpClient client = RawHttpClient.connect(web).timeout(Duration.ofSeconds(30));
        clients.put(framing, client);
        client.send("GET /events/" + framing + " HTTP/1.1\r\nHost: a\r\n\r\n");
        responses.put(framing, java.util.concurrent.CompletableFuture.supplyAsync(() -> {
          try {
            return client.readResponse();
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        }));
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> origin.requests().size() >= 3);
      processes.start("new", "run", "-c", config.toString(), "--takeover");
      assertThat(old.waitFor(30, TimeUnit.SECONDS)).as(processes.log("old")).isTrue();
      assertThat(responses.values()).as("the old process left before the streams ended: they moved")
          .noneMatch(java.util.concurrent.CompletableFuture::isDone);
      assertThat(processes.log("old")).contains("3 keep-alive connections moved to the successor (3 of them with a"
          + " response in flight,");
      for (String framing : framings) {
        RawResponse response = responses.get(framing).get(30, TimeUnit.SECONDS);
        assertThat(response.status()).as(framing).isEqualTo(200);
        assertThat(response.bodyAsString()).as(framing + ": every byte, in order").isEqualTo(expected);
        assertThat(response.framing()).as(framing).isEqualTo(framing.equals("length")
            ? RawResponse.Framing.CONTENT_LENGTH : RawResponse.Framing.CHUNKED);
        assertKeptAlive(get(clients.get(framing), "/after")); // the successor's now
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> accessLog().size() >= 3);
      assertThat(accessLog()).as("one line per stream, the successor's, with the bytes of its whole life")
          .filteredOn(line -> line.contains("/events/")).hasSize(3)
          .allSatisfy(line -> assertThat(line).contains("\"status\":200")
              .contains("\"bytes_out\":" + expected.length()).contains("\"outcome\":\"ok\""));
    } finally {
      for (RawHttpClient client : clients.values()) {
        client.close();
      }
    }
  }

  @Test
  void a_response_moves_again_at_the_next_restart_and_keeps_one_record() throws Exception {
    Process first = startServing("first");
    try (RawHttpClient client = RawHttpClient.connect(web).timeout(Duration.ofSeconds(40))) {
      client.send("GET /events/long HTTP/1.1\r\nHost: a\r\n\r\n");
      java.util.concurrent.CompletableFuture<RawResponse> response = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return client.readResponse();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      await().atMost(Duration.ofSeconds(5)).until(() -> !origin.requests().isEmpty());
      Process second = processes.start("second", "run", "-c", config.toString(), "--takeover");
      assertThat(first.waitFor(30, TimeUnit.SECONDS)).as(processes.log("first")).isTrue();
      await().atMost(Duration.ofSeconds(30)).until(() -> processes.log("second").contains("hand-off socket on"));
      processes.start("third", "run", "-c", config.toString(), "--takeover");
      assertThat(second.waitFor(30, TimeUnit.SECONDS)).as(processes.log("second")).isTrue();
      assertThat(response).as("still streaming after two restarts").isNotDone();
      assertThat(processes.log("second")).contains("(1 of them with a response in flight,");

      RawResponse whole = response.get(30, TimeUnit.SECONDS);
      assertThat(whole.bodyAsString()).isEqualTo(String.join("", LONG_EVENTS));
      assertKeptAlive(get(client, "/after"));
      await().atMost(Duration.ofSeconds(10)).until(() -> accessLog().stream().anyMatch(l -> l.contains("/events/long")));
      assertThat(accessLog()).filteredOn(line -> line.contains("/events/long")).singleElement().asString()
          .contains("\"bytes_out\":" + String.join("", LONG_EVENTS).length()).contains("\"outcome\":\"ok\"");
    }
  }

  @Test
  void downloads_read_slowly_move_with_what_the_proxy_had_sent_and_arrive_whole() throws Exception {
    Process old = startServing("old");
    java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder()
        .version(java.net.http.HttpClient.Version.HTTP_1_1).build();
    List<java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<Long>>> downloads = new java.util.ArrayList<>();
    for (String framing : List.of("length", "chunked")) {
      downloads.add(http.sendAsync(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create("http://127.0.0.1:" + web + "/big/" + framing)).build(), info -> new SlowReader()));
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> origin.requests().size() >= 2);
    processes.start("new", "run", "-c", config.toString(), "--takeover");
    assertThat(old.waitFor(30, TimeUnit.SECONDS)).as(processes.log("old")).isTrue();
    assertThat(downloads).as("the old process left before the downloads ended: they moved")
        .noneMatch(java.util.concurrent.CompletableFuture::isDone);
    assertThat(processes.log("old")).contains("(2 of them with a response in flight,");
    for (java.util.concurrent.CompletableFuture<java.net.http.HttpResponse<Long>> download : downloads) {
      java.net.http.HttpResponse<Long> response = download.get(60, TimeUnit.SECONDS);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).as("bytes, each checked against the origin's pattern").isEqualTo(BIG);
    }
  }

  /**
   * A reader so slow (~25 KB/s through a 4 KiB receive buffer) that what the proxy holds for it does
   * not drain in a freeze's wait however often it is tried: the kernel lets a writer on only once
   * about a third of the socket's send buffer (megabytes, autotuned) drained, ~40 s at this pace. It
   * moves at once with those bytes carried on the hand-off's line, and the successor writes them
   * first: every byte arrives, in order. Before, each freeze waited for them (200 ms, tried again
   * every 250 ms), and such a download could stay in the old process to the drain deadline.
   */
  @Test
  void a_download_read_too_slowly_to_drain_moves_with_the_bytes_the_proxy_held() throws Exception {
    Process old = startServing("old");
    try (java.net.Socket client = new java.net.Socket()) {
      client.setReceiveBufferSize(4 * 1024);
      client.connect(new java.net.InetSocketAddress("127.0.0.1", web));
      client.setSoTimeout(10_000);
      client.getOutputStream().write("GET /big/chunked HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      java.io.InputStream in = new java.io.BufferedInputStream(client.getInputStream(), 1024);
      assertThat(readLine(in)).startsWith("HTTP/1.1 200");
      while (!readLine(in).isEmpty()) {
        // the rest of the head
      }
      Process successor = processes.start("new", "run", "-c", config.toString(), "--takeover");
      ChunkedReader body = new ChunkedReader(in);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
      while (old.isAlive() && System.nanoTime() - deadline < 0) {
        body.read(1024);
        Thread.sleep(40);
      }
      System.out.println("TIMING " + (TimeUnit.SECONDS.toNanos(40) - (deadline - System.nanoTime())) / 1_000_000 + " ms offset " + body.offset);
      assertThat(old.isAlive()).as("the old process left while the download was read slowly: it moved\n"
          + processes.log("old")).isFalse();
      assertThat(processes.log("old")).containsPattern("\\(1 of them with a response in flight, carrying [1-9][0-9]* bytes");
      assertThat(body.offset).as("read slowly so far").isLessThan(BIG / 8);
      while (!body.ended) {
        body.read(64 * 1024);
      }
      assertThat(body.offset).isEqualTo(BIG);
      assertThat(successor.isAlive()).isTrue();
    }
  }

  private static String readLine(java.io.InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    for (int b = in.read(); b != '\n'; b = in.read()) {
      assertThat(b).as("the stream ended in a line: " + line).isNotNegative();
      line.append((char) b);
    }
    assertThat(line.toString()).endsWith("\r");
    return line.substring(0, line.length() - 1);
  }

  /** Reads a chunked body a little at a time, checking each byte against the origin's pattern. */
  private static final class ChunkedReader {
    private final java.io.InputStream in;
    private long leftInChunk;
    long offset;
    boolean ended;

    ChunkedReader(java.io.InputStream in) {
      this.in = in;
    }

    void read(int max) throws IOException {
      if (leftInChunk == 0) {
        long size = Long.parseLong(readLine(in).split(";")[0].trim(), 16);
        if (size == 0) {
          assertThat(readLine(in)).as("no trailers").isEmpty();
          ended = true;
          return;
        }
        leftInChunk = size;
      }
      byte[] buffer = new byte[(int) Math.min(max, leftInChunk)];
      int n = in.read(buffer);
      assertThat(n).as("the download ended at byte " + offset).isPositive();
      for (int i = 0; i < n; i++) {
        if (buffer[i] != io.gatehouse.testing.GeneratedBody.byteAt(offset + i)) {
          throw new AssertionError("byte " + (offset + i) + " differs");
        }
      }
      offset += n;
      leftInChunk -= n;
      if (leftInChunk == 0) {
        assertThat(readLine(in)).as("a chunk's CRLF at byte " + offset).isEmpty();
      }
    }
  }

  /**
   * Takes a body slowly (a buffer, then 5 ms), checking every byte against the origin's
   * generated pattern; completes with the number of bytes, or fails at the first wrong one.
   */
  private static final class SlowReader implements java.net.http.HttpResponse.BodySubscriber<Long> {
    private final java.util.concurrent.CompletableFuture<Long> result = new java.util.concurrent.CompletableFuture<>();
    private java.util.concurrent.Flow.Subscription subscription;
    private long offset;

    @Override
    public java.util.concurrent.CompletionStage<Long> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(java.util.concurrent.Flow.Subscription s) {
      subscription = s;
      s.request(1);
    }

    @Override
    public void onNext(List<java.nio.ByteBuffer> buffers) {
      for (java.nio.ByteBuffer buffer : buffers) {
        while (buffer.hasRemaining()) {
          byte b = buffer.get();
          if (b != io.gatehouse.testing.GeneratedBody.byteAt(offset)) {
            result.completeExceptionally(new AssertionError("byte " + offset + " differs"));
            subscription.cancel();
            return;
          }
          offset++;
        }
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      subscription.request(1);
    }

    @Override
    public void onError(Throwable error) {
      result.completeExceptionally(error);
    }

    @Override
    public void onComplete() {
      result.complete(offset);
    }
  }

  private List<String> accessLog() throws IOException {
    Path log = dir.resolve("access.log");
    return Files.exists(log) ? Files.readAllLines(log) : List.of();
  }

  @Test
  void connections_a_successor_refuses_drain_in_the_old_process_without_losing_a_request() throws Exception {
    Process old = startServing("old");
    try (RequestLoop busy = new RequestLoop(RawHttpClient.connect(web));
        RawHttpClient idle = RawHttpClient.connect(web)) {
      assertKeptAlive(get(idle, "/before"));
      await().atMost(Duration.ofSeconds(10)).until(() -> busy.answered() > 10);
      // It gets the descriptor, closes it and refuses: the old process takes the frozen connection
      // back onto its event loop and drains it as without a successor.
      processes.start("new", "-Dgatehouse.test.refuseTunnels=true", "run", "-c", config.toString(), "--takeover");
      await().atMost(Duration.ofSeconds(30)).until(() -> busy.closed());
      assertThat(busy.stop()).as("the loop's failures").isEmpty();
      assertThat(busy.sawClose()).as("told Connection: close on its last answer").isTrue();
      await("the idle one closed after the grace").atMost(Duration.ofSeconds(10)).until(idle::isClosedByPeer);
      assertThat(old.waitFor(30, TimeUnit.SECONDS)).as(processes.log("old")).isTrue();
      assertThat(processes.log("old")).contains("0 keep-alive connections moved to the successor")
          .contains("2 closed here as they drained");
    }
  }

  @Test
  void a_successor_of_the_version_before_leaves_the_connections_to_close_as_they_drain() throws Exception {
    Process old = startServing("old");
    io.netty.channel.MultiThreadIoEventLoopGroup group =
        new io.netty.channel.MultiThreadIoEventLoopGroup(1, io.netty.channel.epoll.EpollIoHandler.newFactory());
    try (RequestLoop busy = new RequestLoop(RawHttpClient.connect(web))) {
      await().atMost(Duration.ofSeconds(10)).until(() -> busy.answered() > 10);
      // A successor that takes tunnels but cannot parse a connection's line: it answers what the
      // version before this one answers (its JSON reader knows no "kind").
      HandoffClient earlier = HandoffClient.takeOver(Path.of(config + ".handoff.sock"), group, Duration.ofSeconds(10));
      assertThat(earlier).isNotNull();
      earlier.confirm();
      earlier.adoptMoved(new HandoffClient.Adoption() {
        @Override
        public String refusal(HandoffSocket.Moving moving) {
          return moving.isConnection() ? HandoffClient.UNPARSED + ": Unrecognized field \"kind\"" : null;
        }

        @Override
        public void adopt(HandoffSocket.Moving moving, int[] fds) {
          throw new AssertionError("nothing is adopted");
        }
      });
      await().atMost(Duration.ofSeconds(30)).until(() -> busy.closed());
      assertThat(busy.stop()).as("the loop's failures").isEmpty();
      assertThat(busy.sawClose()).isTrue();
      assertThat(old.waitFor(30, TimeUnit.SECONDS)).as(processes.log("old")).isTrue();
      assertThat(processes.log("old")).contains("does not take HTTP/1 connections over (an earlier version)");
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  private static RawResponse get(RawHttpClient client, String path) throws IOException {
    return client.send("GET " + path + " HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
  }

  private static void assertKeptAlive(RawResponse response) {
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.header("Connection")).as("no close announced").isNull();
  }

  private Process startServing(String name) throws IOException {
    return processes.startServing(name, config);
  }

  private String metrics() throws IOException, InterruptedException {
    return GatehouseProcesses.metrics(adminPort);
  }

  /**
   * One keep-alive connection in a request loop (a request every 20 ms), as a client that does not
   * resend anything would run it: every answer must be a 200, and the connection may end only
   * after an answer that said {@code Connection: close}.
   */
  private static final class RequestLoop implements AutoCloseable {
    private final RawHttpClient client;
    private final Thread thread;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger answered = new AtomicInteger();
    private final Queue<String> failures = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;
    private volatile boolean sawClose;

    RequestLoop(RawHttpClient client) throws IOException {
      this.client = client.timeout(Duration.ofSeconds(10));
      thread = new Thread(this::run, "request-loop");
      thread.start();
    }

    private void run() {
      int n = 0;
      while (running.get()) {
        try {
          RawResponse response = get(client, "/loop/" + n++);
          if (response.status() != 200) {
            failures.add("request " + n + ": status " + response.status());
          }
          answered.incrementAndGet();
          if ("close".equalsIgnoreCase(response.header("Connection"))) {
            sawClose = true;
            closed = client.isClosedByPeer();
            if (!closed) {
              failures.add("request " + n + ": Connection: close, and the connection stayed open");
            }
            return;
          }
          Thread.sleep(20);
        } catch (IOException e) {
          if (running.get()) {
            failures.add("request " + n + ": " + e);
            closed = true;
          }
          return;
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    int answered() {
      return answered.get();
    }

    boolean closed() {
      return closed;
    }

    boolean sawClose() {
      return sawClose;
    }

    /** Stops the loop; its failures. */
    List<String> stop() throws InterruptedException {
      running.set(false);
      thread.join(15_000);
      return List.copyOf(failures);
    }

    @Override
    public void close() throws Exception {
      stop();
      client.close();
    }
  }
}
