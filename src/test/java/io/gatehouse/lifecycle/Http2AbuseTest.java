package io.gatehouse.lifecycle;

import static io.gatehouse.testing.RawH2Client.CONTINUATION;
import static io.gatehouse.testing.RawH2Client.END_STREAM;
import static io.gatehouse.testing.RawH2Client.GOAWAY;
import static io.gatehouse.testing.RawH2Client.HEADERS;
import static io.gatehouse.testing.RawH2Client.PING;
import static io.gatehouse.testing.RawH2Client.RST_STREAM;
import static io.gatehouse.testing.RawH2Client.END_HEADERS;
import static io.gatehouse.testing.RawH2Client.encode;
import static io.gatehouse.testing.RawH2Client.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawH2Client;
import io.gatehouse.testing.Reply;
import io.gatehouse.testing.TestCerts;
import io.netty.handler.codec.http2.Http2Error;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What HTTP/2 attack tools send, answered by the connection's end rather than by work or memory
 * without bound: rapid reset (CVE-2023-44487), a CONTINUATION flood (CVE-2024-27316's kind), a PING
 * flood from a client that never reads its ACKs, and more concurrent streams than the SETTINGS
 * allow (RFC 9113 §5.1.2); and the slow clients of HTTP/1.1 on a stream: a response window that
 * never opens (slow read) and a body trickled in (R.U.D.Y.), which the minimum rates cut per
 * stream. After each, a new connection is served: the attack costs only its own connection.
 */
@Timeout(60)
class Http2AbuseTest {
  private static final long ENHANCE_YOUR_CALM = Http2Error.ENHANCE_YOUR_CALM.code();

  @TempDir Path dir;
  private TestCerts certs;
  private FakeUpstream origin;
  private ProxyUnderTest proxy;
  private RawH2Client h2;

  @BeforeEach
  void start() throws Exception {
    certs = TestCerts.selfSigned(dir);
    origin = FakeUpstream.start("a");
    origin.respond(head -> head.uri().startsWith("/hang") ? Reply.hang() : Reply.ok());
    proxy = startProxy("");
    h2 = RawH2Client.connect(proxy.port(), certs);
  }

  /** A TLS listener offering h2 in front of the origin, with {@code limits} (a YAML line, or empty). */
  private ProxyUnderTest startProxy(String limits) throws Exception {
    return ProxyUnderTest.start(limits + """

        listeners:
          - name: public
            bind: 127.0.0.1:0
            mode: reverse
            tls: { certificates: [ { cert: %s, key: %s } ], alpn: [h2, http/1.1] }
        routes: [ { name: all, cluster: c } ]
        clusters: [ { name: c, endpoints: [ "%s" ] } ]
        """.formatted(certs.certificate(), certs.privateKey(), origin.address()));
  }

  @AfterEach
  void stop() throws Exception {
    h2.close();
    proxy.close();
    origin.close();
  }

  /**
   * Requests opened and reset at once, in bulk: each costs the server a stream (and here an
   * upstream attempt) and the client nothing. Past Netty's budget of RST_STREAM frames (200 in
   * 30 s) the connection ends with GOAWAY ENHANCE_YOUR_CALM; the upstream saw no more than that.
   */
  @Test
  void rapidResetEndsTheConnection() throws Exception {
    byte[] cancel = ByteBuffer.allocate(4).putInt((int) Http2Error.CANCEL.code()).array();
    assertStreamFloodEndsTheConnection(stream -> encode(RST_STREAM, 0, stream, cancel));
  }

  /**
   * "MadeYouReset" (CVE-2025-8671): the same flood without the client's RST_STREAM, the server made
   * to reset each stream itself by a stream error (here a WINDOW_UPDATE that overflows the stream's
   * window, RFC 9113 §6.9.1: FLOW_CONTROL_ERROR). The budget must count those resets too.
   */
  @Test
  void streamsResetByTheServerOnClientErrorsEndTheConnection() throws Exception {
    byte[] overflow = ByteBuffer.allocate(4).putInt(Integer.MAX_VALUE).array();
    assertStreamFloodEndsTheConnection(stream -> encode(RawH2Client.WINDOW_UPDATE, 0, stream, overflow));
  }

  /**
   * 1,000 requests sent at once, each followed by {@code after} on its stream: the connection ends
   * (GOAWAY ENHANCE_YOUR_CALM, or a close) long before they are all served, the upstream saw about
   * the budget's worth, and a new connection is served.
   */
  private void assertStreamFloodEndsTheConnection(java.util.function.IntFunction<byte[]> after) throws Exception {
    ByteArrayOutputStream frames = new ByteArrayOutputStream();
    byte[] block = RawH2Client.headerBlock(request("GET", "/hang", "localhost"));
    for (int stream = 1; stream < 2 * 1000; stream += 2) {
      frames.write(encode(HEADERS, END_HEADERS | END_STREAM, stream, block));
      frames.write(after.apply(stream));
    }
    writeUntilCut(frames.toByteArray());

    assertThat(goAwayOrClose()).isIn(ENHANCE_YOUR_CALM, -1L);
    assertThat(origin.requests().size()).isLessThanOrEqualTo(250);
    assertANewConnectionIsServed();
  }

  /**
   * An HPACK bomb: one 4 KiB field put in the dynamic table once, then referenced by a one-byte
   * index 2,000 times in a single request (8 MiB of fields from 6 KiB on the wire). Decoding stops
   * at the header list limit: the request is refused, never expanded in memory or forwarded.
   */
  @Test
  void hpackBombIsRefused() throws Exception {
    ByteArrayOutputStream block = new ByteArrayOutputStream();
    block.write(RawH2Client.headerBlock(request("GET", "/bomb", "localhost")));
    byte[] literal = RawH2Client.headerBlock(List.<String[]>of(new String[] {"x-bomb", "b".repeat(4096)}));
    literal[0] = 0x40; // with incremental indexing, new name (RFC 7541 §6.2.1): it becomes index 62
    block.write(literal);
    for (int i = 0; i < 2000; i++) {
      block.write(0x80 | 62); // indexed field (§6.1): the 4 KiB field again
    }
    h2.frame(HEADERS, END_HEADERS | END_STREAM, 1, block.toByteArray());
    RawH2Client.Frame answer = h2.awaitFrame(f -> f.streamId() == 1 || f.type() == GOAWAY);
    if (answer.type() == HEADERS) {
      assertThat(answer.headers().status().toString()).isEqualTo("431");
    } else {
      assertThat(answer.type()).isIn(RST_STREAM, GOAWAY);
    }
    assertThat(origin.requests()).isEmpty();
    assertANewConnectionIsServed();
  }

  /**
   * Many tiny fields fit the header-list size but each costs the proxy and the servers behind it:
   * past {@code limits.maxHeaderFields} (100) the stream is answered 431, as an HTTP/1.1 request
   * would be, and nothing goes upstream.
   */
  @Test
  void aRequestWithMoreFieldsThanTheLimitGets431() throws Exception {
    List<String[]> fields = new java.util.ArrayList<>(request("GET", "/many", "localhost"));
    for (int i = 0; i < 100; i++) {
      fields.add(new String[] {"x-f" + i, "v"});
    }
    h2.frame(HEADERS, END_HEADERS | END_STREAM, 1, RawH2Client.headerBlock(fields));
    RawH2Client.Frame answer = h2.awaitFrame(f -> f.streamId() == 1 && f.type() == HEADERS);
    assertThat(answer.headers().status().toString()).isEqualTo("431");
    assertThat(origin.requests()).isEmpty();
    assertANewConnectionIsServed();
  }

  /**
   * Empty DATA frames without end (CVE-2019-9518): each costs the server a frame's work and the
   * client nothing. Past Netty's limit of consecutive empty frames the connection ends.
   */
  @Test
  void emptyDataFloodEndsTheConnection() throws Exception {
    List<String[]> post = request("POST", "/upload", "localhost");
    h2.headers(1, false, post);
    writeUntilCut(repeat(encode(RawH2Client.DATA, 0, 1, new byte[0]), 10_000));
    assertThat(goAwayOrClose()).isNotEqualTo(0L);
    assertANewConnectionIsServed();
  }

  /**
   * A header block that never ends: HEADERS without END_HEADERS, then CONTINUATION frames of 16 KiB
   * without end. The server must not buffer them (or decode them) without bound: it ends the
   * connection long before the client has sent 64 MiB.
   */
  @Test
  void continuationFloodEndsTheConnection() throws Exception {
    h2.frame(HEADERS, 0, 1, RawH2Client.headerBlock(request("GET", "/flood", "localhost")));
    byte[] fragment = new byte[16_384];
    java.util.Arrays.fill(fragment, (byte) 'a');
    byte[] burst = repeat(encode(CONTINUATION, 0, 1, fragment), 64); // 1 MiB per write
    int sent = 0;
    try {
      for (; sent < 64; sent++) {
        h2.write(burst);
      }
    } catch (IOException cut) {
      // the server closed the connection under the flood: what this test wants
    }
    assertThat(sent).as("MiB the server took before ending the connection").isLessThan(64);
    assertThat(goAwayOrClose()).isNotEqualTo(0L);
    assertThat(origin.requests()).isEmpty();
    assertANewConnectionIsServed();
  }

  /**
   * PINGs sent much faster than their ACKs are read (here: never read). Each ACK waits in the
   * server's outbound queue; past Netty's limit of queued control frames (10,000) the connection
   * is closed instead of the queue growing.
   */
  @Test
  void pingFloodOfAClientThatNeverReadsEndsTheConnection() throws Exception {
    // A small receive buffer, so that the ACKs back up in the server soon (the kernel's buffers
    // on both sides take the first few MB either way).
    java.net.Socket plain = new java.net.Socket();
    plain.setReceiveBufferSize(4096);
    plain.connect(new java.net.InetSocketAddress("127.0.0.1", proxy.port()), 10_000);
    h2.close();
    h2 = RawH2Client.over(plain, certs);
    byte[] burst = repeat(encode(PING, 0, 0, new byte[8]), 10_000); // 170 KB per write
    int sent = 0;
    try {
      for (; sent < 400; sent++) { // 4,000,000 PINGs at most: 68 MB of frames, 68 MB of ACKs unread
        h2.write(burst);
      }
    } catch (IOException cut) {
      // the server closed the connection: what this test wants
    }
    assertThat(sent).as("bursts of 10,000 PINGs sent before the connection ended").isLessThan(400);
    assertANewConnectionIsServed();
  }

  /**
   * More streams than SETTINGS_MAX_CONCURRENT_STREAMS (256) at once: the ones past the limit are
   * refused by RST_STREAM (RFC 9113 §5.1.2: PROTOCOL_ERROR or REFUSED_STREAM), the upstream never
   * sees more than 256 requests from the connection, and the connection stays usable.
   */
  @Test
  void streamsPastTheConcurrencyLimitAreRefused() throws Exception {
    ByteArrayOutputStream frames = new ByteArrayOutputStream();
    byte[] block = RawH2Client.headerBlock(request("GET", "/hang", "localhost"));
    int streams = 300;
    for (int i = 0; i < streams; i++) {
      frames.write(encode(HEADERS, END_HEADERS | END_STREAM, 1 + 2 * i, block));
    }
    h2.write(frames.toByteArray());

    List<Long> refusals = new ArrayList<>();
    while (refusals.size() < streams - 256) {
      RawH2Client.Frame frame = h2.awaitFrame(f -> f.type() == RST_STREAM || f.type() == GOAWAY);
      assertThat(frame.type()).as("a refusal, not the end of the connection: %s", frame).isEqualTo(RST_STREAM);
      assertThat(frame.streamId()).isGreaterThan(2 * 256);
      refusals.add(frame.errorCode());
    }
    assertThat(refusals).allSatisfy(code -> assertThat(code)
        .isIn(Http2Error.REFUSED_STREAM.code(), Http2Error.PROTOCOL_ERROR.code()));
    await().atMost(Duration.ofSeconds(10)).until(() -> origin.requests().size() == 256);
    assertThat(origin.requests()).hasSize(256);
  }

  /**
   * Slow read over HTTP/2: the client sets its streams' initial window to 0 and never opens it, so
   * no DATA can go out. The response must not be read from the upstream into memory meanwhile
   * (backpressure through the stream's flow control), and the minimum read rate cuts the stream:
   * RST_STREAM, the upstream connection closed, the local reply counted as client_too_slow.
   */
  @Test
  void streamWhoseWindowNeverOpensIsCut() throws Exception {
    origin.respond(head -> Reply.stream(512L * 1024 * 1024));
    try (ProxyUnderTest rated = startProxy("limits: { idleTimeout: 60s, minRateWindow: 1s, minResponseReadRate: 256KiB }");
        RawH2Client client = RawH2Client.connect(rated.port(), certs)) {
      // SETTINGS_INITIAL_WINDOW_SIZE (0x4) = 0 (RFC 9113 §6.5.2)
      client.frame(RawH2Client.SETTINGS, 0, 0, new byte[] {0, 4, 0, 0, 0, 0});
      client.headers(1, true, request("GET", "/huge", "localhost"));
      client.timeout(Duration.ofSeconds(20));
      RawH2Client.Frame reset = client.awaitReset(1);
      assertThat(reset.errorCode()).isNotEqualTo(Http2Error.NO_ERROR.code());
      await().atMost(Duration.ofSeconds(10)).until(() -> origin.openConnections() == 0);
      assertThat(rated.metrics().localReplies("client_too_slow")).isEqualTo(1);
    }
  }

  /**
   * The minimum read rate judges what the stream's window let out: a client that opens its window a
   * little at a time, faster than the minimum, gets its whole response; one that opens it slower is
   * cut (RST_STREAM, counted as client_too_slow).
   */
  @Test
  void aStreamReadThroughItsWindowIsJudgedByWhatTheWindowLetOut() throws Exception {
    int size = 2 * 1024 * 1024;
    origin.respond(head -> Reply.stream(size));
    try (ProxyUnderTest rated = startProxy("limits: { idleTimeout: 60s, minRateWindow: 1s, minResponseReadRate: 128KiB }")) {
      assertThat(readPaced(rated, 1, 64 * 1024, size)).as("~600 KiB/s").isEqualTo(size);
      assertThat(rated.metrics().localReplies("client_too_slow")).isZero();
      assertThat(readPaced(rated, 3, 8 * 1024, size)).as("~70 KiB/s").isLessThan(size);
      assertThat(rated.metrics().localReplies("client_too_slow")).isEqualTo(1);
    }
  }

  /**
   * Reads stream {@code id}'s response on a new connection whose streams start with a zero window,
   * opening it by {@code step} bytes each time what it let out has arrived, 100 ms apart; returns the
   * bytes received when the stream ended or was reset.
   */
  private long readPaced(ProxyUnderTest proxy, int id, int step, int size) throws Exception {
    try (RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      client.timeout(Duration.ofSeconds(20));
      client.frame(RawH2Client.SETTINGS, 0, 0, new byte[] {0, 4, 0, 0, 0, 0}); // SETTINGS_INITIAL_WINDOW_SIZE 0
      client.windowUpdate(0, 2 * size); // the connection's window is not what is judged
      client.headers(id, true, request("GET", "/paced", "localhost"));
      long received = 0;
      long opened = 0;
      while (true) {
        if (received == opened) {
          Thread.sleep(100);
          client.windowUpdate(id, step);
          opened += step;
        }
        RawH2Client.Frame f = client.next();
        if (f == null || f.type() == RawH2Client.RST_STREAM && f.streamId() == id) {
          return received;
        }
        if (f.type() == RawH2Client.DATA && f.streamId() == id) {
          received += f.payload().length;
          if (f.endStream()) {
            return received;
          }
        }
      }
    }
  }

  /**
   * R.U.D.Y. over HTTP/2: a request body announced large and sent a few bytes at a time. The
   * minimum body rate ends the stream (408 or RST_STREAM), and the upstream exchange it opened is
   * closed; the connection's other streams are not affected.
   */
  @Test
  void requestBodyTricklingBelowTheMinimumRateIsCut() throws Exception {
    try (ProxyUnderTest rated = startProxy("limits: { idleTimeout: 60s, minRateWindow: 1s, minRequestBodyRate: 64KiB, requestBufferBytes: 0 }");
        RawH2Client client = RawH2Client.connect(rated.port(), certs)) {
      List<String[]> post = request("POST", "/upload", "localhost");
      post.add(new String[] {"content-length", "1000000"});
      client.headers(1, false, post);
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      client.timeout(Duration.ofMillis(200));
      RawH2Client.Frame end = null;
      while (end == null && System.nanoTime() < deadline) {
        client.data(1, false, "0123456789"); // 10 bytes every ~200 ms: 50 B/s
        try {
          end = client.awaitFrame(f -> f.streamId() == 1 && (f.type() == RST_STREAM || f.endStream())
              || f.type() == GOAWAY);
        } catch (AssertionError noFrameYet) {
          // nothing in 200 ms: trickle on
        }
      }
      assertThat(end).as("the stream ended within 20 s").isNotNull();
      assertThat(end.type()).isNotEqualTo(GOAWAY);
      assertThat(rated.metrics().localReplies("client_too_slow")).isEqualTo(1);
      client.timeout(Duration.ofSeconds(10));
      client.headers(3, true, request("GET", "/after", "localhost"));
      assertThat(client.awaitResponse(3).status()).isEqualTo("200");
    }
  }

  /**
   * A connection with no open stream, kept busy by a PING every 200 ms: frames that carry no request
   * do not keep it open. At {@code idleTimeout} after its last stream ended it gets GOAWAY NO_ERROR,
   * then its end (the old idle rule, no frame either way, never fired while the client pinged).
   */
  @Test
  void anEmptyConnectionKeptBusyWithPingsClosesAtTheIdleTimeout() throws Exception {
    try (ProxyUnderTest idle = startProxy("limits: { idleTimeout: 2s }");
        RawH2Client client = RawH2Client.connect(idle.port(), certs)) {
      client.headers(1, true, request("GET", "/first", "localhost"));
      assertThat(client.awaitResponse(1).status()).isEqualTo("200");
      long lastStreamEnded = System.nanoTime();
      java.util.concurrent.ScheduledExecutorService pinger = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
      pinger.scheduleAtFixedRate(() -> {
        try {
          client.frame(PING, 0, 0, new byte[8]);
        } catch (IOException closed) {
          // the server closed: the reads below see it
        }
      }, 0, 200, java.util.concurrent.TimeUnit.MILLISECONDS);
      try {
        client.timeout(Duration.ofSeconds(15));
        RawH2Client.Frame goAway = client.awaitGoAway();
        double after = (System.nanoTime() - lastStreamEnded) / 1e9;
        assertThat(goAway.errorCode()).isEqualTo(Http2Error.NO_ERROR.code());
        assertThat(after).as("seconds from the last stream's end to GOAWAY").isBetween(1.8, 10.0);
        while (client.next() != null) {
          // the frames still in flight; a timeout here (15 s) fails the test: the connection stayed
        }
      } finally {
        pinger.shutdownNow();
      }
    }
  }

  /**
   * Slowloris over HTTP/2: a header block trickled in, one byte per CONTINUATION every 250 ms. No
   * stream opens until the block ends, so the connection is idle all along and closes at
   * {@code idleTimeout}; each frame used to count as activity and kept it open for as long as the
   * block stayed under the header size limit (hours at this pace).
   */
  @Test
  void aHeaderBlockTrickledInDoesNotKeepTheConnectionOpen() throws Exception {
    try (ProxyUnderTest idle = startProxy("limits: { idleTimeout: 2s }");
        RawH2Client client = RawH2Client.connect(idle.port(), certs)) {
      List<String[]> fields = request("GET", "/slow", "localhost");
      fields.add(new String[] {"x-pad", "a".repeat(4000)});
      byte[] block = RawH2Client.headerBlock(fields);
      // The server's SETTINGS acknowledged first: no frame may come between a block's frames.
      client.awaitFrame(f -> f.type() == RawH2Client.SETTINGS && (f.flags() & RawH2Client.ACK) == 0);
      client.frame(HEADERS, 0, 1, java.util.Arrays.copyOfRange(block, 0, 16));
      long start = System.nanoTime();
      Thread trickle = new Thread(() -> {
        try {
          for (int i = 16; i < block.length - 1; i++) {
            client.frame(CONTINUATION, 0, 1, new byte[] {block[i]});
            Thread.sleep(250);
          }
        } catch (IOException | InterruptedException closed) {
          // the server closed the connection, or the test ended
        }
      });
      trickle.start();
      try {
        client.timeout(Duration.ofSeconds(15));
        RawH2Client.Frame frame;
        do {
          try {
            frame = client.next();
          } catch (java.net.SocketTimeoutException stillOpen) {
            throw new AssertionError("the connection is still open 15 s into the trickle", stillOpen);
          }
        } while (frame != null);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isBetween(Duration.ofMillis(1800), Duration.ofSeconds(8));
        assertThat(origin.requests()).isEmpty();
      } finally {
        trickle.interrupt();
      }
    }
  }

  /**
   * Slow read of the whole connection: a client that never reads its socket (its windows wide open,
   * so flow control does not hold the responses back) and keeps opening streams. Each stream is cut
   * by its own stall rule, but the new ones would keep the connection, and the kernel's queue for
   * it, for ever; once the connection has taken nothing for {@code idleTimeout} it is reset (with
   * {@code minResponseReadRate: 0} no rate rule steps in first).
   */
  @Test
  void aClientThatStopsReadingWhileOpeningStreamsIsReset() throws Exception {
    origin.respond(head -> Reply.stream(512L * 1024 * 1024));
    try (ProxyUnderTest stalled = startProxy("limits: { idleTimeout: 2s, minResponseReadRate: 0 }")) {
      java.net.Socket plain = new java.net.Socket();
      plain.setReceiveBufferSize(4096);
      plain.connect(new java.net.InetSocketAddress("127.0.0.1", stalled.port()), 10_000);
      try (RawH2Client client = RawH2Client.over(plain, certs)) {
        // SETTINGS_INITIAL_WINDOW_SIZE (0x4) = 2^31-1, and the connection's window as wide
        client.frame(RawH2Client.SETTINGS, 0, 0, new byte[] {0, 4, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff});
        client.windowUpdate(0, Integer.MAX_VALUE - 65_535);
        // Watched from the proxy's side: a failed write here would take the socket's error, which
        // the read below must find.
        long start = System.nanoTime();
        long cutAfter = -1;
        for (int stream = 1; cutAfter < 0 && System.nanoTime() - start < Duration.ofSeconds(30).toNanos(); stream += 2) {
          try {
            client.headers(stream, true, request("GET", "/huge", "localhost"));
          } catch (java.net.SocketException reset) {
            // The cut came between two looks below: this write met the reset (it failed once so).
            cutAfter = System.nanoTime() - start;
            await().atMost(Duration.ofSeconds(5)).until(() -> stalled.server().openConnections().get("public") == 0L);
            break;
          }
          for (int i = 0; i < 30 && cutAfter < 0; i++) {
            Thread.sleep(10);
            if (stalled.server().openConnections().get("public") == 0L) {
              cutAfter = System.nanoTime() - start;
            }
          }
        }
        assertThat(cutAfter).as("the connection was cut while the client kept opening streams").isPositive();
        assertThat(Duration.ofNanos(cutAfter)).isLessThan(Duration.ofSeconds(15));
        // A reset drops what the kernel had queued for the client: its next read fails at once,
        // where after a FIN it would get those bytes, then the end (read below the TLS layer: the
        // client's own TLS reads would answer frames, and fail on the write).
        plain.setSoTimeout(5_000);
        assertThatThrownBy(() -> {
          byte[] sink = new byte[65_536];
          while (plain.getInputStream().read(sink) >= 0) {
            // bytes the server sent before the cut
          }
          throw new IOException("closed with a FIN");
        }).isInstanceOf(java.net.SocketException.class).hasMessageContaining("reset");
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> origin.openConnections() == 0);
      try (RawH2Client fresh = RawH2Client.connect(stalled.port(), certs)) {
        origin.respond(head -> Reply.ok());
        fresh.headers(1, true, request("GET", "/after", "localhost"));
        assertThat(fresh.awaitResponse(1).status()).isEqualTo("200");
      }
    }
  }

  /** Writes {@code bytes} in slices until done or the server cuts the connection. */
  private void writeUntilCut(byte[] bytes) {
    try {
      for (int from = 0; from < bytes.length; from += 65_536) {
        h2.write(java.util.Arrays.copyOfRange(bytes, from, Math.min(bytes.length, from + 65_536)));
      }
    } catch (IOException cut) {
      // the server closed the connection
    }
  }

  /** The GOAWAY's error code, or -1 when the connection ended without one being read. */
  private long goAwayOrClose() throws IOException {
    h2.timeout(Duration.ofSeconds(20));
    while (true) {
      RawH2Client.Frame frame;
      try {
        frame = h2.next();
      } catch (java.net.SocketTimeoutException stillOpen) {
        throw new AssertionError("the connection is still open 20 s after the abuse", stillOpen);
      } catch (IOException reset) {
        return -1;
      }
      if (frame == null) {
        return -1;
      }
      if (frame.type() == GOAWAY) {
        return frame.errorCode();
      }
    }
  }

  private void assertANewConnectionIsServed() throws Exception {
    try (RawH2Client fresh = RawH2Client.connect(proxy.port(), certs)) {
      fresh.headers(1, true, request("GET", "/after", "localhost"));
      assertThat(fresh.awaitResponse(1).status()).isEqualTo("200");
    }
  }

  private static byte[] repeat(byte[] frame, int times) {
    byte[] out = new byte[frame.length * times];
    for (int i = 0; i < times; i++) {
      System.arraycopy(frame, 0, out, i * frame.length, frame.length);
    }
    return out;
  }
}
