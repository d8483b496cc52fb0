package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.Reply;
import io.gatehouse.testing.TestCerts;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Slow-loris, slow POST and slow read: none of them may hold a connection for long. */
@Timeout(60)
class SlowClientTest {
  private FakeUpstream origin;
  private GatehouseServer proxy;
  private int port;

  @BeforeEach
  void start() throws Exception {
    origin = FakeUpstream.start("a");
    proxy = GatehouseServer.start(ConfigLoader.parse("""
        admin: { bind: 127.0.0.1:0 }
        limits: { headerTimeout: 500ms, idleTimeout: 1s }
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes: [ { name: all, cluster: c } ]
        clusters: [ { name: c, endpoints: [ "%s" ] } ]
        """.formatted(origin.address()), "test.yaml", Map.of()));
    port = proxy.address("web").getPort();
  }

  @AfterEach
  void stop() {
    proxy.close();
    origin.close();
  }

  @Test
  void headTricklingInGets408WithinTheHeaderTimeout() throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(port)) {
      long start = System.nanoTime();
      client.send("GET / HTTP/1.1\r\n");
      RawResponse response = client.timeout(Duration.ofSeconds(5)).readResponse();
      long ms = (System.nanoTime() - start) / 1_000_000;
      assertThat(response.status()).isEqualTo(408);
      assertThat(ms).as("the header timeout, not the idle timeout, applies").isLessThan(950);
      await().atMost(Duration.ofSeconds(2)).until(client::isClosedByPeer);
    }
    assertThat(origin.requests()).isEmpty();
    assertThat(proxy.metrics().localReplies("header_timeout")).isEqualTo(1);
  }

  @Test
  void idleKeepAliveConnectionIsClosedQuietly() throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(port)) {
      assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      await().atMost(Duration.ofSeconds(3)).until(client::isClosedByPeer);
    }
  }

  /**
   * A response that fitted whole in the kernel's send buffer leaves the connection idle for the
   * proxy while the client has read none of it: the idle close is a FIN the client cannot reach
   * behind that data, then a reset, which drops what it left unread (a plain close would leave it
   * queued, sent on at the reader's pace).
   */
  @Test
  void idleConnectionWhoseClientLeftItsResponseUnreadIsReset() throws Exception {
    origin.respond(head -> Reply.stream(64 * 1024));
    try (RawHttpClient client = RawHttpClient.connect(port)) {
      client.socket().setReceiveBufferSize(4096);
      client.send("GET /64k HTTP/1.1\r\nHost: a\r\n\r\n");
      Thread.sleep(1000 + 2000 + 1500); // idleTimeout, the FIN's grace, margin: reading nothing
      assertThat(howItEnds(client)).isEqualTo("Connection reset");
    }
  }

  /** A client that read everything gets the idle close's FIN, and closing its side ends the connection at once. */
  @Test
  void idleConnectionWhoseClientReadEverythingEndsWithAFin() throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(port)) {
      assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
      client.socket().setSoTimeout(3000);
      assertThat(client.socket().getInputStream().read()).isEqualTo(-1); // the FIN, at the idle timeout
      client.socket().shutdownOutput();
      await().atMost(Duration.ofMillis(1500)).until(() -> proxy.openConnections().get("web") == 0L);
    }
  }

  @Test
  void stalledRequestBodyGets408AndFreesTheUpstream() throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(port)) {
      client.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\nonly-a-few-bytes");
      RawResponse response = client.timeout(Duration.ofSeconds(5)).readResponse();
      assertThat(response.status()).isEqualTo(408);
      await().atMost(Duration.ofSeconds(2)).until(client::isClosedByPeer);
    }
    await().atMost(Duration.ofSeconds(3)).until(() -> origin.openConnections() == 0);
    assertThat(proxy.metrics().localReplies("body_timeout")).isEqualTo(1);
  }

  @Test
  void bodyTricklingBelowTheMinimumRateGets408() throws Exception {
    try (GatehouseServer slow = GatehouseServer.start(ConfigLoader.parse("""
            admin: { bind: 127.0.0.1:0 }
            limits: { idleTimeout: 20s, minRateWindow: 1s, minRequestBodyRate: 1KiB }
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: all, cluster: c } ]
            clusters: [ { name: c, endpoints: [ "%s" ] } ]
            """.formatted(origin.address()), "rated.yaml", Map.of()));
        RawHttpClient client = RawHttpClient.connect(slow.address("web").getPort())) {
      client.send("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n");
      // a byte every 100 ms, far inside the idle timeout (R.U.D.Y.), for at most 10 s
      for (int i = 0; i < 100 && !client.socket().isInputShutdown(); i++) {
        if (client.socket().getInputStream().available() > 0) {
          break;
        }
        client.send("x");
        Thread.sleep(100);
      }
      RawResponse response = client.timeout(Duration.ofSeconds(5)).readResponse();
      assertThat(response.status()).isEqualTo(408);
      assertThat(slow.metrics().localReplies("client_too_slow")).isEqualTo(1);
    }
    await().atMost(Duration.ofSeconds(3)).until(() -> origin.openConnections() == 0);
  }

  @Test
  void responseReadBelowTheMinimumRateIsCut() throws Exception {
    origin.respond(head -> Reply.stream(512L * 1024 * 1024));
    try (GatehouseServer slow = GatehouseServer.start(ConfigLoader.parse("""
            admin: { bind: 127.0.0.1:0 }
            limits: { idleTimeout: 60s, minRateWindow: 1s, minResponseReadRate: 256KiB }
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: all, cluster: c } ]
            clusters: [ { name: c, endpoints: [ "%s" ] } ]
            """.formatted(origin.address()), "rated.yaml", Map.of()));
        RawHttpClient client = RawHttpClient.connect(slow.address("web").getPort())) {
      client.socket().setReceiveBufferSize(4096);
      client.send("GET /huge HTTP/1.1\r\nHost: a\r\n\r\n");
      // Reads 1 KiB every 50 ms (about 20 KiB/s) and never stops: no timeout fires, only the rate
      // can cut it. The cut is a reset: what the proxy wrote before it (the kernel buffers take
      // megabytes) is dropped, not left queued for the slow reader to pin for hours.
      java.util.concurrent.atomic.AtomicReference<String> end = new java.util.concurrent.atomic.AtomicReference<>();
      Thread reader = new Thread(() -> {
        byte[] buffer = new byte[1024];
        try {
          for (int i = 0; i < 400; i++) {
            if (client.socket().getInputStream().read(buffer) < 0) {
              end.set("end of stream");
              return;
            }
            Thread.sleep(50);
          }
          end.set("still reading");
        } catch (java.net.SocketException e) {
          end.set(e.getMessage());
        } catch (Exception e) {
          end.set(e.toString());
        }
      });
      reader.start();
      await().atMost(Duration.ofSeconds(15)).until(() -> origin.openConnections() == 0);
      assertThat(slow.metrics().localReplies("client_too_slow")).isEqualTo(1);
      reader.join(5000);
      assertThat(end.get()).isEqualTo("Connection reset");
      client.close();
    }
  }

  @Test
  void clientThatStopsReadingIsDisconnected() throws Exception {
    origin.respond(head -> Reply.stream(512L * 1024 * 1024));
    try (RawHttpClient client = RawHttpClient.connect(port)) {
      client.socket().setReceiveBufferSize(4096);
      client.send("GET /huge HTTP/1.1\r\nHost: a\r\n\r\n");
      // never read: the proxy's buffers fill, then the slow-reader timeout closes the connection
      await().atMost(Duration.ofSeconds(10)).until(() -> origin.openConnections() == 0);
      // with a reset: the megabytes queued for it are dropped, not delivered (nor kept) after the cut
      assertThat(howItEnds(client)).isEqualTo("Connection reset");
    }
  }

  /**
   * The same over TLS: the reset goes straight to the socket. Through TLS's own close it would first
   * wait for its close_notify to leave, which a client that reads nothing never lets happen
   * (SslHandler gave up after 3 s, with a WARN line per connection).
   */
  @Test
  void tlsClientThatStopsReadingIsResetWithoutWaitingForCloseNotify(@TempDir java.nio.file.Path dir) throws Exception {
    origin.respond(head -> Reply.stream(512L * 1024 * 1024));
    TestCerts certs = TestCerts.selfSigned(dir);
    try (GatehouseServer tls = GatehouseServer.start(ConfigLoader.parse("""
            limits: { idleTimeout: 1s }
            listeners:
              - { name: tls, bind: 127.0.0.1:0, mode: reverse, tls: { certificates: [ { cert: %s, key: %s } ] } }
            routes: [ { name: all, cluster: c } ]
            clusters: [ { name: c, endpoints: [ "%s" ] } ]
            """.formatted(certs.certificate(), certs.privateKey(), origin.address()), "tls.yaml", Map.of()));
        java.net.Socket plain = new java.net.Socket()) {
      plain.setReceiveBufferSize(4096);
      plain.connect(tls.address("tls"), 5000);
      javax.net.ssl.SSLSocket socket = (javax.net.ssl.SSLSocket) certs.clientSslContext().getSocketFactory()
          .createSocket(plain, "localhost", plain.getPort(), true);
      socket.startHandshake();
      socket.getOutputStream().write("GET /huge HTTP/1.1\r\nHost: a\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      long sent = System.nanoTime();
      // never read: the buffers fill at once, idleTimeout (1 s) later the client is cut
      await().atMost(Duration.ofSeconds(10)).until(() -> tls.openConnections().get("tls") == 0L);
      assertThat(Duration.ofNanos(System.nanoTime() - sent)).isLessThan(Duration.ofMillis(2500));
      assertThat(tls.metrics().localReplies("client_too_slow")).isEqualTo(1);
      assertThat(howItEnds(plain)).isEqualTo("Connection reset"); // read below TLS: the socket's own end
    }
  }

  /**
   * Reads what is left on the connection (at most 64 MiB, each read waiting at most 5 s): how it
   * ended, the socket's error ("Connection reset") or an end of stream after so many bytes.
   */
  private static String howItEnds(RawHttpClient client) throws java.io.IOException {
    return howItEnds(client.socket());
  }

  private static String howItEnds(java.net.Socket socket) throws java.io.IOException {
    socket.setSoTimeout(5000);
    byte[] buffer = new byte[64 * 1024];
    long read = 0;
    try {
      int n;
      while ((n = socket.getInputStream().read(buffer)) >= 0 && read < (64L << 20)) {
        read += n;
      }
      return "end of stream after " + read + " bytes";
    } catch (java.net.SocketException e) {
      return e.getMessage();
    }
  }
}
