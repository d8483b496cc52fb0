package io.gatehouse.reverse;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawOrigin;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A WebSocket client that half-closes (RFC 9293 §3.6) once upgraded still gets everything the
 * origin sends after that FIN. The client reads through a small receive buffer, so the proxy's
 * socket towards it fills while the client's input is already over: the case that used to cut the
 * download (the write asking for EPOLLOUT on a descriptor Netty had taken out of the epoll set).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WebSocketHalfCloseTest {
  private static final int DOWN = 7 * 1024 * 1024 + 7;

  private final ExecutorService threads = Executors.newCachedThreadPool();

  @AfterEach
  void stopThreads() {
    threads.shutdownNow();
  }

  @Test
  void theOriginsBytesAfterTheClientsFinAllArrive() throws Exception {
    byte[] down = new byte[DOWN];
    new Random(3).nextBytes(down);
    try (ServerSocket origin = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: all, cluster: ws } ]
            clusters: [ { name: ws, endpoints: ["${ORIGIN}"] } ]
            """, Map.of("ORIGIN", "127.0.0.1:" + origin.getLocalPort()))) {
      CompletableFuture<Void> originDone = CompletableFuture.runAsync(() -> {
        try (Socket s = origin.accept()) {
          s.setSoTimeout(30_000);
          InputStream in = s.getInputStream();
          RawOrigin.readHead(in);
          OutputStream out = s.getOutputStream();
          out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
          out.flush();
          assertThat(in.read()).isEqualTo(-1); // the client's FIN, passed on; then the download
          out.write(down);
          s.shutdownOutput();
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      }, threads);
      try (Socket client = new Socket()) {
        client.setReceiveBufferSize(16 * 1024); // before connect: the window the proxy sees stays small
        client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), proxy.port()), 5_000);
        client.setSoTimeout(30_000);
        client.getOutputStream().write(("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        InputStream in = client.getInputStream();
        assertThat(RawOrigin.readHead(in)).startsWith("HTTP/1.1 101");
        client.shutdownOutput();
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        long received = 0;
        byte[] buf = new byte[64 * 1024];
        for (int n; (n = in.read(buf)) > 0; ) {
          digest.update(buf, 0, n);
          received += n;
        }
        assertThat(received).isEqualTo(DOWN);
        assertThat(HexFormat.of().formatHex(digest.digest()))
            .isEqualTo(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(down)));
      }
      originDone.get(30, TimeUnit.SECONDS);
    }
  }

}
