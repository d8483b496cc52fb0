package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FreePorts;
import io.gatehouse.testing.RawOrigin;
import io.netty.channel.epoll.Epoll;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restart keeps long connections: at a {@code --takeover}, the old process moves its CONNECT
 * tunnels and WebSockets (plain TCP both ways) to the successor, with both sockets' descriptors and
 * nothing in flight, so a byte stream that runs through the hand-off arrives whole and in order,
 * the old process exits long before its drain deadline, and the successor writes the tunnel's one
 * access-log line, with the bytes of its whole life.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TunnelHandoffTest {
  @TempDir Path dir;
  private GatehouseProcesses processes;
  private ServerSocket origin;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private Path config;
  private Path accessLog;
  private int web;
  private int egress;
  private int adminPort;

  @BeforeEach
  void setUp() throws Exception {
    assumeThat(Epoll.isAvailable()).as("the hand-off needs the epoll transport").isTrue();
    processes = new GatehouseProcesses(dir);
    origin = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    threads.submit(this::serveOrigin);
    web = FreePorts.take();
    egress = FreePorts.take();
    adminPort = FreePorts.take();
    config = dir.resolve("g.yaml");
    accessLog = dir.resolve("access.log");
    // The drain deadline is far beyond the test's waits: an old process that exits in time let its
    // tunnels go to the successor, it did not cut them.
    Files.writeString(config, """
        admin: { bind: 127.0.0.1:%d }
        limits: { drainTimeout: 90s, closeSpread: 200ms }
        accessLog: { path: %s, format: json }
        listeners:
          - { name: web, bind: 127.0.0.1:%d, mode: reverse }
          - name: egress
            bind: 127.0.0.1:%d
            mode: forward
            forward:
              connectPorts: [%d]
              rules: [ { allow: { name: test-origin, hosts: ["127.0.0.1"] } } ]
              default: deny
        routes: [ { name: all, cluster: ws } ]
        clusters: [ { name: ws, endpoints: [ "127.0.0.1:%d" ] } ]
        """.formatted(adminPort, accessLog, web, egress, origin.getLocalPort(),
        origin.getLocalPort()));
  }

  @AfterEach
  void tearDown() throws IOException {
    if (processes != null) {
      processes.close();
    }
    threads.shutdownNow();
    if (origin != null) {
      origin.close();
    }
  }

  @Test
  void tunnels_and_websockets_move_to_the_successor_with_every_byte_in_order() throws Exception {
    Process old = startServing("old");
    try (Socket tunnel = connectTunnel(); Socket websocket = openWebSocket()) {
      Stream tunnelStream = new Stream(tunnel, 1);
      Stream wsStream = new Stream(websocket, 2);
      await().atMost(Duration.ofSeconds(10)).until(() -> tunnelStream.verified() > 256 * 1024
          && wsStream.verified() > 256 * 1024); // past the copy phase: both directions splice

      Process successor = processes.start("new", "run", "-c", config.toString(), "--takeover");
      assertThat(old.waitFor(60, TimeUnit.SECONDS))
          .as("the old process is done once its tunnels moved, long before its 90 s drain deadline; %s",
              processes.log("old"))
          .isTrue();
      assertThat(old.exitValue()).isZero();
      assertThat(processes.log("old")).contains("hand-off: 2 tunnels moved to the successor");
      assertThat(processes.log("new")).contains("took over 2 tunnels");
      assertThat(metrics()).contains("gatehouse_tunnels_taken_over_total{listener=\"egress\"} 1.0")
          .contains("gatehouse_tunnels_taken_over_total{listener=\"web\"} 1.0");

      // The streams ran through the hand-off; they go on with the old process gone.
      long atExit = tunnelStream.verified() + wsStream.verified();
      await().atMost(Duration.ofSeconds(10)).until(() -> tunnelStream.verified() + wsStream.verified() > atExit + 512 * 1024);
      long tunnelBytes = tunnelStream.stop();
      long wsBytes = wsStream.stop();
      assertThat(successor.isAlive()).isTrue();

      tunnel.shutdownOutput(); // the origin answers the FIN with its own: the tunnels end
      websocket.shutdownOutput();
      assertThat(tunnel.getInputStream().read()).isEqualTo(-1);
      assertThat(websocket.getInputStream().read()).isEqualTo(-1);
      await().atMost(Duration.ofSeconds(10)).until(() -> lines().size() >= 2);
      List<String> lines = lines();
      assertThat(lines).as("one line per tunnel, the successor's, with the bytes of its whole life").hasSize(2);
      assertThat(lines).anySatisfy(line -> assertThat(line).contains("\"method\":\"CONNECT\"")
          .contains("\"status\":200").contains("\"bytes_in\":" + tunnelBytes).contains("\"bytes_out\":" + tunnelBytes)
          .contains("\"listener\":\"egress\"").contains("\"outcome\":\"ok\""));
      assertThat(lines).anySatisfy(line -> assertThat(line).contains("\"method\":\"GET\"").contains("\"status\":101")
          .contains("\"bytes_in\":" + wsBytes).contains("\"bytes_out\":" + wsBytes).contains("\"listener\":\"web\""));
    }
  }

  @Test
  void a_websocket_with_tls_in_the_proxy_stays_with_the_old_process_while_a_plain_one_moves() throws Exception {
    io.gatehouse.testing.TestCerts certs = io.gatehouse.testing.TestCerts.selfSigned(dir);
    int wss = FreePorts.take();
    Files.writeString(config, Files.readString(config).replace("listeners:\n", "listeners:\n"
        + "  - { name: wss, bind: 127.0.0.1:%d, mode: reverse, tls: { certificates: [ { cert: %s, key: %s } ] } }\n"
            .formatted(wss, certs.certificate(), certs.privateKey())));
    Process old = startServing("old");
    javax.net.ssl.SSLSocket secure = (javax.net.ssl.SSLSocket) certs.clientSslContext().getSocketFactory()
        .createSocket(connect(wss), "localhost", wss, true);
    try (secure; Socket plain = openWebSocket()) {
      secure.getOutputStream().write(("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      assertThat(RawOrigin.readHead(secure.getInputStream())).startsWith("HTTP/1.1 101");
      Stream secureStream = new Stream(secure, 7);
      Stream plainStream = new Stream(plain, 8);
      await().atMost(Duration.ofSeconds(10)).until(() -> secureStream.verified() > 128 * 1024);

      processes.start("new", "run", "-c", config.toString(), "--takeover");
      await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
          .until(() -> metrics().contains("gatehouse_tunnels_taken_over_total{listener=\"web\"} 1.0"));
      long atMove = secureStream.verified() + plainStream.verified();
      await().atMost(Duration.ofSeconds(10))
          .until(() -> secureStream.verified() + plainStream.verified() > atMove + 512 * 1024);
      assertThat(old.isAlive()).as("the TLS WebSocket keeps the old process until it ends").isTrue();
      secureStream.stop();
      plainStream.stop();
      secure.close();
      assertThat(old.waitFor(30, TimeUnit.SECONDS)).as(processes.log("old")).isTrue();
      assertThat(processes.log("old")).contains("hand-off: 1 tunnels moved to the successor; 1 stayed here");
    }
  }

  @Test
  void a_tunnel_moves_again_at_the_next_restart_and_keeps_one_record() throws Exception {
    Process first = startServing("first");
    try (Socket tunnel = connectTunnel()) {
      Stream stream = new Stream(tunnel, 6);
      Process second = processes.start("second", "run", "-c", config.toString(), "--takeover");
      assertThat(first.waitFor(60, TimeUnit.SECONDS)).as(processes.log("first")).isTrue();
      await().atMost(Duration.ofSeconds(30)).until(() -> processes.log("second").contains("hand-off socket on"));
      long atSecond = stream.verified();
      await().atMost(Duration.ofSeconds(10)).until(() -> stream.verified() > atSecond + 256 * 1024);
      processes.start("third", "run", "-c", config.toString(), "--takeover");
      assertThat(second.waitFor(60, TimeUnit.SECONDS)).as(processes.log("second")).isTrue();
      assertThat(processes.log("second")).contains("hand-off: 1 tunnels moved to the successor");
      long atThird = stream.verified();
      await().atMost(Duration.ofSeconds(10)).until(() -> stream.verified() > atThird + 256 * 1024);
      long bytes = stream.stop();
      tunnel.shutdownOutput();
      assertThat(tunnel.getInputStream().read()).isEqualTo(-1);
      await().atMost(Duration.ofSeconds(10)).until(() -> !lines().isEmpty());
      assertThat(lines()).singleElement().asString().contains("\"bytes_in\":" + bytes)
          .contains("\"bytes_out\":" + bytes);
    }
  }

  @Test
  void a_tunnel_whose_reader_lags_moves_once_what_it_was_sent_is_out() throws Exception {
    Process old = startServing("old");
    try (Socket tunnel = connectTunnel()) {
      java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(1);
      Stream stream = new Stream(tunnel, 3, reading);
      awaitStalled(stream); // every buffer on the way is full: the proxy holds bytes it cannot write
      processes.start("new", "run", "-c", config.toString(), "--takeover");
      await().atMost(Duration.ofSeconds(30)).until(() -> processes.log("old").contains("draining"));
      Thread.sleep(1500);
      assertThat(old.isAlive()).as("a tunnel with bytes the proxy could not write yet does not move").isTrue();

      reading.countDown();
      assertThat(old.waitFor(60, TimeUnit.SECONDS)).as(processes.log("old")).isTrue();
      assertThat(processes.log("old")).contains("hand-off: 1 tunnels moved to the successor");
      long atExit = stream.verified();
      await().atMost(Duration.ofSeconds(10)).until(() -> stream.verified() > atExit + 256 * 1024);
      stream.stop();
    }
  }

  @Test
  void a_successor_that_does_not_take_tunnels_leaves_them_to_the_old_process_until_they_end() throws Exception {
    Process old = startServing("old");
    io.netty.channel.MultiThreadIoEventLoopGroup group =
        new io.netty.channel.MultiThreadIoEventLoopGroup(1, io.netty.channel.epoll.EpollIoHandler.newFactory());
    try (Socket tunnel = connectTunnel()) {
      Stream stream = new Stream(tunnel, 4);
      // A successor of an earlier version: it takes the sockets and confirms, then closes the
      // connection instead of asking for the tunnels (ADOPT).
      HandoffClient earlier = HandoffClient.takeOver(Path.of(config + ".handoff.sock"), group, Duration.ofSeconds(10));
      assertThat(earlier).isNotNull();
      earlier.confirm();
      earlier.close();
      await().atMost(Duration.ofSeconds(30)).until(() -> processes.log("old").contains("draining"));
      long atDrain = stream.verified();
      await().atMost(Duration.ofSeconds(10)).until(() -> stream.verified() > atDrain + 256 * 1024);
      assertThat(old.isAlive()).as("the tunnel relays on in the old process").isTrue();
      stream.stop();
      tunnel.shutdownOutput();
      assertThat(tunnel.getInputStream().read()).isEqualTo(-1);
      assertThat(old.waitFor(30, TimeUnit.SECONDS)).as("the drain ends with its last tunnel").isTrue();
      assertThat(processes.log("old")).doesNotContain("tunnels moved");
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  @Test
  void a_tunnel_the_successor_lets_go_of_after_it_got_the_sockets_relays_on_in_the_old_process() throws Exception {
    Process old = startServing("old");
    try (Socket tunnel = connectTunnel()) {
      Stream stream = new Stream(tunnel, 5);
      await().atMost(Duration.ofSeconds(10)).until(() -> stream.verified() > 256 * 1024);
      // It gets both descriptors, closes them and refuses: the old process takes the frozen tunnel
      // back onto its event loop and relays on; the successor's close sent nothing.
      processes.start("new", "-Dgatehouse.test.refuseTunnels=true", "run", "-c", config.toString(), "--takeover");
      await().atMost(Duration.ofSeconds(30)).until(() -> processes.log("old").contains("refused tunnel"));
      long atRefusal = stream.verified();
      await().atMost(Duration.ofSeconds(10)).until(() -> stream.verified() > atRefusal + 512 * 1024);
      assertThat(old.isAlive()).isTrue();
      long bytes = stream.stop();
      tunnel.shutdownOutput();
      assertThat(tunnel.getInputStream().read()).isEqualTo(-1);
      assertThat(old.waitFor(30, TimeUnit.SECONDS)).as("the drain ends with its last tunnel").isTrue();
      assertThat(processes.log("old")).contains("0 tunnels moved to the successor; 1 stayed here");
      await().atMost(Duration.ofSeconds(10)).until(() -> !lines().isEmpty());
      assertThat(lines()).singleElement().asString().contains("\"method\":\"CONNECT\"")
          .contains("\"bytes_in\":" + bytes).contains("\"bytes_out\":" + bytes);
    }
  }

  /** Until the stream's writer has been blocked for a while: nothing on the way takes more. */
  private static void awaitStalled(Stream stream) {
    long[] last = {-1};
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(500)).until(() -> {
      long now = stream.written();
      boolean stalled = now == last[0] && now > 0;
      last[0] = now;
      return stalled;
    });
  }

  private Process startServing(String name) throws IOException {
    return processes.startServing(name, config);
  }

  private String metrics() throws IOException, InterruptedException {
    return GatehouseProcesses.metrics(adminPort);
  }

  private List<String> lines() throws IOException {
    return Files.exists(accessLog) ? Files.readAllLines(accessLog) : List.of();
  }

  private Socket connectTunnel() throws IOException {
    Socket s = connect(egress);
    s.getOutputStream().write(("CONNECT 127.0.0.1:" + origin.getLocalPort() + " HTTP/1.1\r\nHost: 127.0.0.1:"
        + origin.getLocalPort() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    assertThat(RawOrigin.readHead(s.getInputStream())).startsWith("HTTP/1.1 200");
    return s;
  }

  private Socket openWebSocket() throws IOException {
    Socket s = connect(web);
    s.getOutputStream().write(("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    assertThat(RawOrigin.readHead(s.getInputStream())).startsWith("HTTP/1.1 101");
    return s;
  }

  private static Socket connect(int port) throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
    s.setSoTimeout(30_000);
    return s;
  }

  /**
   * The origin: a WebSocket upgrade (a head starting with {@code GET }) is answered 101, then, as a
   * CONNECT's bytes from the start, everything is echoed back; its FIN answers the client's.
   */
  private void serveOrigin() {
    while (!origin.isClosed()) {
      Socket s;
      try {
        s = origin.accept();
      } catch (IOException e) {
        return;
      }
      threads.submit(() -> {
        try (s) {
          InputStream in = new BufferedInputStream(s.getInputStream());
          OutputStream out = s.getOutputStream();
          in.mark(4);
          byte[] first = in.readNBytes(4);
          in.reset();
          if (new String(first, StandardCharsets.US_ASCII).equals("GET ")) {
            RawOrigin.readHead(in);
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
          }
          in.transferTo(out);
          s.shutdownOutput();
        } catch (IOException e) {
          // the test ended
        }
        return null;
      });
    }
  }

  /**
   * A byte stream both ways through one tunnel: a writer sends a pattern without pause, a reader
   * checks that every echoed byte is the one due at its position. Bounded: 64 MiB at most.
   */
  private final class Stream {
    private static final long MAX_BYTES = 64L * 1024 * 1024;
    private final Socket socket;
    private final int seed;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong verified = new AtomicLong();
    private final CompletableFuture<Void> writer;
    private final CompletableFuture<Void> reader;

    private final java.util.concurrent.CountDownLatch reading;

    Stream(Socket socket, int seed) {
      this(socket, seed, new java.util.concurrent.CountDownLatch(0));
    }

    /** @param reading the reader starts once this opens */
    Stream(Socket socket, int seed, java.util.concurrent.CountDownLatch reading) {
      this.socket = socket;
      this.seed = seed;
      this.reading = reading;
      writer = CompletableFuture.runAsync(this::write, threads);
      reader = CompletableFuture.runAsync(this::read, threads);
    }

    long written() {
      return written.get();
    }

    private byte at(long position) {
      return (byte) (position * 31 + seed + (position >>> 13));
    }

    private void write() {
      byte[] chunk = new byte[8 * 1024];
      try {
        OutputStream out = socket.getOutputStream();
        while (running.get() && written.get() < MAX_BYTES) {
          long from = written.get();
          for (int i = 0; i < chunk.length; i++) {
            chunk[i] = at(from + i);
          }
          // Counted before it is written: a reader told to stop waits for the echo of this chunk too
          // (counted after, the reader could see every counted byte echoed and stop one chunk short).
          written.addAndGet(chunk.length);
          out.write(chunk);
          Thread.sleep(1); // a steady stream, not a flood: ~8 MB/s
        }
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException("the tunnel broke while writing at byte " + written.get(), e);
      }
    }

    private void read() {
      byte[] buf = new byte[64 * 1024];
      try {
        reading.await();
        // Reads wake up now and then to see whether the stream stopped, with every byte echoed.
        socket.setSoTimeout(100);
        InputStream in = socket.getInputStream();
        while (running.get() || verified.get() < written.get()) {
          int n;
          try {
            n = in.read(buf);
          } catch (java.net.SocketTimeoutException e) {
            continue;
          }
          if (n < 0) {
            throw new IllegalStateException("the tunnel ended after " + verified.get() + " bytes");
          }
          long from = verified.get();
          for (int i = 0; i < n; i++) {
            if (buf[i] != at(from + i)) {
              throw new IllegalStateException("byte " + (from + i) + " is not the one sent there");
            }
          }
          verified.addAndGet(n);
        }
      } catch (IOException | InterruptedException e) {
        throw new IllegalStateException("the tunnel broke while reading at byte " + verified.get(), e);
      }
    }

    long verified() {
      if (reader.isCompletedExceptionally() || writer.isCompletedExceptionally()) {
        reader.join();
        writer.join();
      }
      return verified.get();
    }

    /** Stops writing, waits for the echo of everything written; returns the bytes each way. */
    long stop() throws Exception {
      running.set(false);
      writer.get(30, TimeUnit.SECONDS);
      reader.get(30, TimeUnit.SECONDS);
      socket.setSoTimeout(30_000);
      assertThat(verified.get()).isEqualTo(written.get());
      return written.get();
    }
  }
}
