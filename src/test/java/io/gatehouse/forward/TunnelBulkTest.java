package io.gatehouse.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.testing.RawOrigin;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The floor for any change to how tunnels move bytes (read sizes, buffering, splice): several MiB
 * each way at the same time through a CONNECT tunnel, with each side half-closing (RFC 9293 §3.6)
 * while the other still sends, arrive byte for byte (SHA-256 of each direction), and the access log
 * counts them exactly. Both orders of the two FINs are covered.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TunnelBulkTest {
  private static final int UP = 3 * 1024 * 1024 + 123; // not a multiple of any buffer size
  private static final int DOWN = 7 * 1024 * 1024 + 7;

  @TempDir
  Path dir;

  /** Its own threads: a side that waits for the other's FIN must not hold the one a reader needs. */
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @AfterEach
  void stopThreads() {
    threads.shutdownNow();
  }

  /**
   * Failed about half the runs before lifecycle.EpollRegistrationKeeper (the client got 5.4 of 7
   * MiB): once the client's input had ended, a write that filled the client's socket asked for
   * EPOLLOUT on a descriptor Netty's epoll transport had already taken out of the epoll set
   * (epoll_ctl ENOENT), and Netty dropped the rest. EpollRegistrationKeeperTest and
   * WebSocketHalfCloseTest fail every time without it.
   */
  @Test
  void clientFinishesFirstWhileTheOriginStillSends() throws Exception {
    relay(true);
  }

  @Test
  void originFinishesFirstWhileTheClientStillSends() throws Exception {
    relay(false);
  }

  /**
   * Client and origin each send their bytes and then shut their output; with {@code clientFirst}
   * the origin waits for the client's FIN before its last MiB, otherwise the client waits for the
   * origin's FIN before its last MiB. Each side reads the other's bytes to EOF meanwhile.
   */
  private void relay(boolean clientFirst) throws Exception {
    byte[] up = random(UP, 1);
    byte[] down = random(DOWN, 2);
    Path log = dir.resolve("access.log");
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ProxyUnderTest proxy = ProxyUnderTest.startYaml("""
            admin: { bind: 127.0.0.1:0 }
            accessLog: { enabled: true, format: json, path: %s }
            listeners:
              - name: egress
                bind: 127.0.0.1:0
                mode: forward
                forward:
                  connectPorts: [%d]
                  rules: [ { allow: { name: local, hosts: ["127.0.0.1"] } } ]
            """.formatted(log, server.getLocalPort()))) {
      CompletableFuture<String> originGot = CompletableFuture.supplyAsync(() -> {
        try (Socket s = server.accept()) {
          s.setSoTimeout(30_000);
          CompletableFuture<String> reading = readAllAsync(s.getInputStream());
          OutputStream out = s.getOutputStream();
          int last = DOWN - 1024 * 1024;
          out.write(down, 0, last);
          if (clientFirst) {
            reading.join(); // the client's FIN reached the origin; it still answers
          }
          out.write(down, last, DOWN - last);
          s.shutdownOutput();
          return reading.join();
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      }, threads);
      try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
        client.setSoTimeout(30_000);
        OutputStream out = client.getOutputStream();
        out.write(("CONNECT 127.0.0.1:" + server.getLocalPort() + " HTTP/1.1\r\nHost: x\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        InputStream in = client.getInputStream();
        assertThat(RawOrigin.readHead(in)).startsWith("HTTP/1.1 200 Connection established");
        CompletableFuture<String> reading = readAllAsync(in);
        int last = UP - 1024 * 1024;
        out.write(up, 0, last);
        if (!clientFirst) {
          reading.join(); // the origin's FIN reached the client; it still sends
        }
        out.write(up, last, UP - last);
        client.shutdownOutput();
        assertThat(reading.get(30, TimeUnit.SECONDS)).isEqualTo(sha256(down));
      }
      assertThat(originGot.get(30, TimeUnit.SECONDS)).isEqualTo(sha256(up));
      await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(log) && !Files.readAllLines(log).isEmpty());
      JsonNode line = new ObjectMapper().readTree(Files.readAllLines(log).get(0));
      assertThat(line.get("method").asText()).isEqualTo("CONNECT");
      assertThat(line.get("bytes_in").asLong()).isEqualTo(UP);
      assertThat(line.get("bytes_out").asLong()).isEqualTo(DOWN);
      assertThat(line.get("outcome").asText()).isEqualTo("ok");
    }
  }

  private static byte[] random(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  /** Reads {@code in} to EOF on another thread; the SHA-256 of what came, in hex. */
  private CompletableFuture<String> readAllAsync(InputStream in) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[64 * 1024];
        int n;
        while ((n = in.read(buf)) > 0) {
          digest.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(digest.digest());
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    }, threads);
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

}
