package io.gatehouse.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.testing.RawOrigin;
import io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cleartext CONNECT tunnel between epoll sockets moves its bytes with splice(2) (the proxy opens
 * pipes for it) and still relays every byte of both directions, in order, with each FIN after the
 * last byte of its direction (RFC 9293 §3.6), whichever side finishes first and however slowly the
 * other side reads; the access log counts each direction exactly; a reset of one side closes the
 * other. Netty's splice reports the end of input after one pass (at most a pipe, 64 KiB) whatever
 * the socket still holds: without the relay reading that rest itself, each case here loses bytes
 * or ends in a reset.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SpliceTunnelTest {
  private static final int UP = 3 * 1024 * 1024 + 123; // not a multiple of a pipe or a read
  private static final int DOWN = 5 * 1024 * 1024 + 7;

  @TempDir
  Path dir;

  /** Its own threads: a side that waits for the other's FIN must not hold the one a reader needs. */
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private ServerSocket server;
  private ProxyUnderTest proxy;
  private Path log;

  @BeforeEach
  void start() throws Exception {
    assumeTrue(Epoll.isAvailable(), "splice(2) needs the epoll transport");
    server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    log = dir.resolve("access.log");
    proxy = ProxyUnderTest.startYaml("""
        admin: { bind: 127.0.0.1:0 }
        accessLog: { enabled: true, format: json, path: %s }
        listeners:
          - name: egress
            bind: 127.0.0.1:0
            mode: forward
            forward:
              connectPorts: [%d]
              rules: [ { allow: { name: local, hosts: ["127.0.0.1"] } } ]
        """.formatted(log, server.getLocalPort()));
  }

  @AfterEach
  void stop() throws Exception {
    threads.shutdownNow();
    if (proxy != null) {
      proxy.close();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void clientFinishesFirstThenTheOriginAnswers() throws Exception {
    CompletableFuture<Long> originGot = origin(s -> {
      long got = checkPattern(s.getInputStream(), 1, false); // all of the upload, to the relayed FIN
      writePattern(s.getOutputStream(), DOWN, 2, false);
      s.shutdownOutput();
      return got;
    });
    long pipesBefore = pipes();
    try (Socket client = connect()) {
      OutputStream out = client.getOutputStream();
      writePattern(out, 1024 * 1024, 1, 0, false);
      // splice(2) goes through a pipe: the proxy (in this JVM) opened one for the tunnel
      await().atMost(Duration.ofSeconds(10)).until(() -> pipes() > pipesBefore);
      writePattern(out, UP - 1024 * 1024, 1, 1024 * 1024, false);
      client.shutdownOutput();
      assertThat(checkPattern(client.getInputStream(), 2, false)).isEqualTo(DOWN);
    }
    assertThat(originGot.get(30, TimeUnit.SECONDS)).isEqualTo(UP);
    assertLogged(UP, DOWN);
  }

  /**
   * The origin's FIN reaches the client first; the client sends on and its FIN arrives at a
   * connection whose both directions are then closed, while the origin reads slowly: Netty closes
   * that socket right after reporting the end of input, so the relay must have read all of it.
   */
  @Test
  void originFinishesFirstWhileTheClientSendsOn() throws Exception {
    CompletableFuture<Long> originGot = origin(s -> {
      writePattern(s.getOutputStream(), DOWN, 2, false);
      s.shutdownOutput();
      return checkPattern(s.getInputStream(), 1, true);
    });
    try (Socket client = connect()) {
      OutputStream out = client.getOutputStream();
      CompletableFuture<Long> clientGot = readAsync(client.getInputStream(), 2, false);
      writePattern(out, 1024 * 1024, 1, 0, false);
      assertThat(clientGot.get(30, TimeUnit.SECONDS)).isEqualTo(DOWN); // the origin's FIN came
      writePattern(out, UP - 1024 * 1024, 1, 1024 * 1024, false);
      client.shutdownOutput();
      assertThat(originGot.get(30, TimeUnit.SECONDS)).isEqualTo(UP);
    }
    assertLogged(UP, DOWN);
  }

  /**
   * A client that reads slowly: the proxy stops reading the origin, and nothing is lost at either
   * FIN. Repeated: the FINs race, and the losing order (the origin's first, the client's while the
   * proxy still holds bytes for it) came in about 1 run of 6 with splice and 5 of 6 copying, when
   * the relay closed a connection at its EOF as soon as its own FIN was asked for.
   */
  @RepeatedTest(5)
  void slowClientReaderGetsEveryByteBeforeTheFin() throws Exception {
    CompletableFuture<Long> originGot = origin(s -> {
      CompletableFuture<Long> reading = readAsync(s.getInputStream(), 1, false);
      writePattern(s.getOutputStream(), DOWN, 2, false);
      s.shutdownOutput();
      return reading.join();
    });
    try (Socket client = connect()) {
      CompletableFuture<Long> clientGot = readAsync(client.getInputStream(), 2, true);
      writePattern(client.getOutputStream(), UP, 1, 0, true);
      client.shutdownOutput();
      assertThat(clientGot.get(30, TimeUnit.SECONDS)).isEqualTo(DOWN);
    }
    assertThat(originGot.get(30, TimeUnit.SECONDS)).isEqualTo(UP);
    assertLogged(UP, DOWN);
  }

  /** A tunnel that carries a small exchange copies it: it never pays for the pipes of a splice. */
  @Test
  void smallExchangeOpensNoPipe() throws Exception {
    CompletableFuture<Long> originGot = origin(s -> {
      InputStream in = s.getInputStream();
      assertThat(in.readNBytes(1000)).hasSize(1000);
      writePattern(s.getOutputStream(), 4000, 2, false);
      s.shutdownOutput();
      return checkPattern(in, 1, false) + 1000;
    });
    long pipesBefore = pipes();
    try (Socket client = connect()) {
      client.getOutputStream().write(new byte[1000]);
      InputStream in = client.getInputStream();
      assertThat(in.readNBytes(4000)).hasSize(4000);
      assertThat(pipes()).isEqualTo(pipesBefore);
      client.shutdownOutput();
      assertThat(in.read()).isEqualTo(-1);
    }
    assertThat(originGot.get(30, TimeUnit.SECONDS)).isEqualTo(1000);
    assertLogged(1000, 4000);
  }

  /** A client that resets its connection mid-download: the origin's connection is closed too. */
  @Test
  void clientResetClosesTheOriginConnection() throws Exception {
    CompletableFuture<Long> originWrote = origin(s -> {
      writePattern(s.getOutputStream(), 64 * 1024 * 1024, 2, false); // more than any buffer holds
      return 0L;
    });
    try (Socket client = connect()) {
      InputStream in = client.getInputStream();
      assertThat(in.readNBytes(256 * 1024)).hasSize(256 * 1024);
      client.setSoLinger(true, 0); // close sends RST
    }
    assertThatThrownBy(() -> originWrote.get(30, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .hasRootCauseInstanceOf(IOException.class);
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(log) && !Files.readAllLines(log).isEmpty());
  }

  private interface OriginScript {
    long run(Socket s) throws IOException;
  }

  private CompletableFuture<Long> origin(OriginScript script) {
    return CompletableFuture.supplyAsync(() -> {
      try (Socket s = server.accept()) {
        s.setSoTimeout(30_000);
        return script.run(s);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    }, threads);
  }

  private Socket connect() throws IOException {
    Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
    client.setSoTimeout(30_000);
    client.getOutputStream().write(("CONNECT 127.0.0.1:" + server.getLocalPort() + " HTTP/1.1\r\nHost: x\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII));
    assertThat(RawOrigin.readHead(client.getInputStream())).startsWith("HTTP/1.1 200 Connection established");
    return client;
  }

  private CompletableFuture<Long> readAsync(InputStream in, int seed, boolean slowly) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return checkPattern(in, seed, slowly);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    }, threads);
  }

  private void assertLogged(long up, long down) throws IOException {
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(log) && !Files.readAllLines(log).isEmpty());
    JsonNode line = new ObjectMapper().readTree(Files.readAllLines(log).get(0));
    assertThat(line.get("method").asText()).isEqualTo("CONNECT");
    assertThat(line.get("bytes_in").asLong()).isEqualTo(up);
    assertThat(line.get("bytes_out").asLong()).isEqualTo(down);
    assertThat(line.get("outcome").asText()).isEqualTo("ok");
  }

  /** Pipes open in this process (the proxy runs in it). */
  private static long pipes() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(fd -> {
        try {
          return Files.readSymbolicLink(fd).toString().startsWith("pipe:");
        } catch (IOException e) {
          return false; // closed meanwhile
        }
      }).count();
    }
  }

  private static void writePattern(OutputStream out, int count, int seed, boolean slowly) throws IOException {
    writePattern(out, count, seed, 0, slowly);
  }

  /** Bytes {@code (offset + i) * 31 + seed}, so a lost, doubled or reordered byte shows. */
  private static void writePattern(OutputStream out, int count, int seed, long offset, boolean slowly)
      throws IOException {
    byte[] buf = new byte[64 * 1024];
    long at = offset;
    int left = count;
    while (left > 0) {
      int n = Math.min(left, buf.length);
      for (int i = 0; i < n; i++) {
        buf[i] = (byte) ((at + i) * 31 + seed);
      }
      out.write(buf, 0, n);
      at += n;
      left -= n;
      pace(slowly);
    }
    out.flush();
  }

  /** Reads to EOF, checking the pattern; returns the count. Slowly: 16 KiB a millisecond at most. */
  private static long checkPattern(InputStream in, int seed, boolean slowly) throws IOException {
    byte[] buf = new byte[slowly ? 16 * 1024 : 64 * 1024];
    long at = 0;
    int n;
    while ((n = in.read(buf)) > 0) {
      for (int i = 0; i < n; i++) {
        if (buf[i] != (byte) ((at + i) * 31 + seed)) {
          throw new IOException("byte " + (at + i) + " differs");
        }
      }
      at += n;
      pace(slowly);
    }
    return at;
  }

  /** A slow peer's pace (not a wait for anything: the test asserts bytes, never timings). */
  private static void pace(boolean slowly) {
    if (slowly) {
      LockSupport.parkNanos(1_000_000);
    }
  }

}
