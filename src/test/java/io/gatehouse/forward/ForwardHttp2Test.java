package io.gatehouse.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RawH2Client;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.TestCerts;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.bcrypt.BCrypt;

/**
 * The forward proxy over HTTP/2 (a TLS forward listener offering h2): a request names its target by
 * {@code :scheme} + {@code :authority} + {@code :path} (RFC 9113 §8.3.1) and goes the forward path of
 * an absolute-form one; a CONNECT is a stream whose DATA are the tunnel (§8.5), with flow control as
 * backpressure, END_STREAM as the half-close and RST_STREAM as the abort. Byte-exact frames from
 * {@link RawH2Client}; {@link H2Tunnel} keeps a real client's flow control.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ForwardHttp2Test {
  @TempDir Path dir;
  private TestCerts certs;
  private Path log;
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @BeforeEach
  void certs() {
    certs = TestCerts.selfSigned(dir);
    log = dir.resolve("access.log");
  }

  @AfterEach
  void stopThreads() {
    threads.shutdownNow();
  }

  /** {@code forwardBlock}: the lines under {@code forward:}. */
  private ProxyUnderTest proxy(String forwardBlock) throws Exception {
    return ProxyUnderTest.startYaml("""
        admin: { bind: 127.0.0.1:0 }
        accessLog: { enabled: true, format: json, path: %s }
        listeners:
          - name: egress
            bind: 127.0.0.1:0
            mode: forward
            tls: { certificates: [ { cert: %s, key: %s } ], alpn: [h2, http/1.1] }
            forward:
        """.formatted(log, certs.certificate(), certs.privateKey())
        + forwardBlock.stripIndent().lines().map(l -> "      " + l).reduce("", (a, b) -> a + b + "\n"));
  }

  private static String allowLocal(int port) {
    return "connectPorts: [443, " + port + "]\n"
        + "rules:\n  - allow: { name: local, hosts: [\"127.0.0.1\", \"localhost\"] }\ndefault: deny\n";
  }

  private static List<String[]> get(String scheme, String authority, String path) {
    return RawH2Client.fields(":method", "GET", ":scheme", scheme, ":authority", authority, ":path", path);
  }

  @Test
  void aRequestGoesToItsOriginInOriginFormLikeAnAbsoluteOne() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("origin");
        ProxyUnderTest proxy = proxy(allowLocal(origin.port()));
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      client.headers(1, true, get("http", "127.0.0.1:" + origin.port(), "/page?q=1"));
      RawH2Client.Response r = client.awaitResponse(1);
      assertThat(r.status()).isEqualTo("200");
      assertThat(r.body()).isEqualTo("origin");
      assertThat(origin.lastRequest().uri()).isEqualTo("/page?q=1");
      assertThat(origin.lastRequest().header("Host")).isEqualTo("127.0.0.1:" + origin.port());
      assertThat(origin.lastRequest().header("Via")).contains("gatehouse");
      // a second stream on the same connection, same path
      client.headers(3, true, get("http", "localhost:" + origin.port(), "/again"));
      assertThat(client.awaitResponse(3).status()).isEqualTo("200");
      assertThat(origin.lastRequest().uri()).isEqualTo("/again");
    }
  }

  /**
   * Requests and tunnels that arrived over HTTP/2 are logged as {@code HTTP/2.0}, and the origin's
   * {@code Via} names that received protocol (RFC 9110 §7.6.3); an HTTP/1.1 request on the same TLS
   * listener stays {@code HTTP/1.1} in both.
   */
  @Test
  void theLogAndViaSayWhichProtocolTheClientSpoke() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("origin");
        ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ProxyUnderTest proxy = proxy("connectPorts: [" + server.getLocalPort() + "]\n"
            + "rules:\n  - allow: { name: local, hosts: [\"127.0.0.1\"] }\ndefault: deny\n");
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      client.headers(1, true, get("http", "127.0.0.1:" + origin.port(), "/over-h2"));
      assertThat(client.awaitResponse(1).status()).isEqualTo("200");
      assertThat(origin.lastRequest().header("Via")).isEqualTo("2.0 gatehouse");

      CompletableFuture<Long> echoed = CompletableFuture.supplyAsync(() -> echo(server), threads);
      H2Tunnel tunnel = new H2Tunnel(client, 3).connect("127.0.0.1:" + server.getLocalPort());
      assertThat(tunnel.awaitStatus()).isEqualTo("200");
      tunnel.send("hi".getBytes(StandardCharsets.US_ASCII), true);
      assertThat(tunnel.readToEnd()).hasSize(2);
      assertThat(echoed.get(20, TimeUnit.SECONDS)).isEqualTo(2);

      try (SSLSocket tls = (SSLSocket) certs.clientSslContext().getSocketFactory()
              .createSocket("127.0.0.1", proxy.port());
          RawHttpClient h1 = RawHttpClient.over(tls)) {
        RawResponse r = h1.send("GET http://127.0.0.1:" + origin.port() + "/over-h1 HTTP/1.1\r\n"
            + "Host: 127.0.0.1:" + origin.port() + "\r\n\r\n").readResponse();
        assertThat(r.status()).isEqualTo(200);
      }
      assertThat(origin.lastRequest().header("Via")).isEqualTo("1.1 gatehouse");

      await().atMost(Duration.ofSeconds(10)).until(() -> Files.readAllLines(log).size() >= 3);
      assertThat(accessLogLines()).extracting(l -> l.get("method").asText() + " " + l.get("protocol").asText())
          .containsExactlyInAnyOrder("GET HTTP/2.0", "CONNECT HTTP/2.0", "GET HTTP/1.1");
    }
  }

  @Test
  void accessRulesApplyToRequestsAndTunnels() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("origin");
        ProxyUnderTest proxy = proxy("connectPorts: [" + origin.port() + "]\n"
            + "rules:\n  - deny: { name: no-localhost, hosts: [\"localhost\"] }\n"
            + "  - allow: { name: local, hosts: [\"127.0.0.1\"] }\ndefault: deny\n");
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      client.headers(1, true, get("http", "localhost:" + origin.port(), "/"));
      RawH2Client.Response denied = client.awaitResponse(1);
      assertThat(denied.status()).isEqualTo("403");
      assertThat(denied.headers().get("x-gatehouse-denied").toString()).isEqualTo("no-localhost");

      H2Tunnel tunnel = new H2Tunnel(client, 3).connect("localhost:" + origin.port());
      assertThat(tunnel.awaitStatus()).isEqualTo("403");
      H2Tunnel port = new H2Tunnel(client, 5).connect("127.0.0.1:" + (origin.port() == 443 ? 444 : 443));
      assertThat(port.awaitStatus()).isEqualTo("403");
      assertThat(origin.requests()).isEmpty();
      assertThat(proxy.server.metrics().requests("egress", "", "", 403)).isEqualTo(3);
    }
  }

  @Test
  void anHttpsTargetWithoutConnectIs501() throws Exception {
    try (ProxyUnderTest proxy = proxy(allowLocal(443));
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      client.headers(1, true, get("https", "127.0.0.1:443", "/"));
      RawH2Client.Response r = client.awaitResponse(1);
      assertThat(r.status()).isEqualTo("501");
      assertThat(r.body()).contains("CONNECT for https");
    }
  }

  /**
   * Tunnel bytes sent right behind the CONNECT, before the 2xx, then more and END_STREAM: the origin
   * reads them all up to the FIN END_STREAM became, and its answer still comes back, then its own
   * FIN as END_STREAM. One access-log line, as for an HTTP/1.1 CONNECT.
   */
  @Test
  void theClientsEndStreamIsTheHalfCloseAndEarlyBytesArriveFirst() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ProxyUnderTest proxy = proxy(allowLocal(server.getLocalPort()));
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      CompletableFuture<String> originGot = CompletableFuture.supplyAsync(() -> {
        try (Socket s = server.accept()) {
          s.setSoTimeout(20_000);
          String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
          s.getOutputStream().write(("got " + all).getBytes(StandardCharsets.US_ASCII));
          return all;
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      }, threads);
      H2Tunnel tunnel = new H2Tunnel(client, 1).connect("127.0.0.1:" + server.getLocalPort());
      tunnel.send("early ".getBytes(StandardCharsets.US_ASCII), false);
      assertThat(tunnel.awaitStatus()).isEqualTo("200");
      tunnel.send("and late".getBytes(StandardCharsets.US_ASCII), true);
      assertThat(new String(tunnel.readToEnd(), StandardCharsets.US_ASCII)).isEqualTo("got early and late");
      assertThat(originGot.get(20, TimeUnit.SECONDS)).isEqualTo("early and late");
      JsonNode line = accessLogLine();
      assertThat(line.get("method").asText()).isEqualTo("CONNECT");
      assertThat(line.get("status").asInt()).isEqualTo(200);
      assertThat(line.get("bytes_in").asLong()).isEqualTo(14);
      assertThat(line.get("bytes_out").asLong()).isEqualTo(18);
      assertThat(line.get("outcome").asText()).isEqualTo("ok");
      assertThat(proxy.server.metrics().requests("egress", "", "", 200)).isEqualTo(1);
    }
  }

  /** The origin finishes first: its FIN is END_STREAM, and the client can still send until its own. */
  @Test
  void theOriginsFinIsEndStreamAndTheClientStillSends() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ProxyUnderTest proxy = proxy(allowLocal(server.getLocalPort()));
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      CompletableFuture<String> originGot = CompletableFuture.supplyAsync(() -> {
        try (Socket s = server.accept()) {
          s.setSoTimeout(20_000);
          s.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
          s.shutdownOutput();
          return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      }, threads);
      H2Tunnel tunnel = connected(client, server);
      assertThat(new String(tunnel.readToEnd(), StandardCharsets.US_ASCII)).isEqualTo("hello");
      tunnel.send("after your end".getBytes(StandardCharsets.US_ASCII), true);
      assertThat(originGot.get(20, TimeUnit.SECONDS)).isEqualTo("after your end");
      assertThat(accessLogLine().get("outcome").asText()).isEqualTo("ok");
    }
  }

  /** A few MiB both ways through an echoing origin, within the windows: every byte, in order. */
  @Test
  void bulkBytesBothWaysArriveWhole() throws Exception {
    int size = 4 * 1024 * 1024;
    byte[] up = new byte[size];
    new Random(7).nextBytes(up);
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ProxyUnderTest proxy = proxy(allowLocal(server.getLocalPort()));
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      CompletableFuture<Long> echoed = CompletableFuture.supplyAsync(() -> echo(server), threads);
      H2Tunnel tunnel = connected(client, server);
      tunnel.send(up, true);
      byte[] down = tunnel.readToEnd();
      assertThat(down.length).isEqualTo(size);
      assertThat(sha256(down)).isEqualTo(sha256(up));
      assertThat(echoed.get(20, TimeUnit.SECONDS)).isEqualTo(size);
      JsonNode line = accessLogLine();
      assertThat(line.get("bytes_in").asLong()).isEqualTo(size);
      assertThat(line.get("bytes_out").asLong()).isEqualTo(size);
    }
  }

  /**
   * A client that reads nothing holds its window: the proxy stops reading the origin, so what the
   * origin can write is bounded by buffers (the stream's flow control, the relay's high water mark,
   * the sockets'), not by the download. Once the client reads again, every byte arrives.
   */
  @Test
  void aClientThatDoesNotReadStopsTheOrigin() throws Exception {
    int size = 64 * 1024 * 1024;
    AtomicLong written = new AtomicLong();
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ProxyUnderTest proxy = proxy(allowLocal(server.getLocalPort()));
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      CompletableFuture<Void> origin = CompletableFuture.runAsync(() -> {
        try (Socket s = server.accept()) {
          byte[] chunk = new byte[64 * 1024];
          OutputStream out = s.getOutputStream();
          while (written.get() < size) {
            out.write(chunk);
            written.addAndGet(chunk.length);
          }
          s.shutdownOutput();
          s.getInputStream().readAllBytes();
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      }, threads);
      H2Tunnel tunnel = connected(client, server);
      long[] last = {-1};
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).until(() -> {
        long now = written.get();
        boolean stalled = now == last[0] && now > 0;
        last[0] = now;
        return stalled;
      });
      assertThat(written.get()).isLessThan(size / 2);
      client.timeout(Duration.ofSeconds(30));
      assertThat(tunnel.readToEnd().length).isEqualTo(size);
      tunnel.send(new byte[0], true);
      origin.get(30, TimeUnit.SECONDS);
    }
  }

  /**
   * An origin that reads nothing holds the client's window: the proxy asks for the stream's next DATA
   * (and gives its bytes back to the window) only while the origin's socket takes more, so what the
   * client can send is bounded by buffers, not by the upload.
   */
  @Test
  void anOriginThatDoesNotReadHoldsTheClientsWindow() throws Exception {
    int size = 64 * 1024 * 1024;
    CountDownLatch done = new CountDownLatch(1);
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ProxyUnderTest proxy = proxy(allowLocal(server.getLocalPort()));
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      CompletableFuture<Void> origin = CompletableFuture.runAsync(() -> {
        try (Socket s = server.accept()) {
          done.await(30, TimeUnit.SECONDS); // reads nothing
        } catch (IOException | InterruptedException e) {
          throw new RuntimeException(e);
        }
      }, threads);
      H2Tunnel tunnel = connected(client, server);
      client.timeout(Duration.ofSeconds(20));
      CompletableFuture<Void> upload = CompletableFuture.runAsync(() -> {
        try {
          tunnel.send(new byte[size], true);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e); // the window stayed shut: the client's read timed out
        }
      }, threads);
      long[] last = {-1};
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).until(() -> {
        long now = tunnel.sent();
        boolean stalled = now == last[0] && now > 0;
        last[0] = now;
        return stalled;
      });
      assertThat(upload).isNotDone();
      assertThat(tunnel.sent()).isLessThan(size / 2);
      done.countDown();
      origin.get(30, TimeUnit.SECONDS);
    }
  }

  /**
   * An origin that starts reading late: the window the proxy gives back once the origin takes the
   * bytes reaches the client although nothing else is sent on the connection meanwhile (a
   * WINDOW_UPDATE written from the upstream's side of the event loop is flushed too).
   */
  @Test
  void anOriginThatReadsLateGetsTheWholeUpload() throws Exception {
    int size = 16 * 1024 * 1024;
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ProxyUnderTest proxy = proxy(allowLocal(server.getLocalPort()));
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      CompletableFuture<Long> origin = CompletableFuture.supplyAsync(() -> {
        try (Socket s = server.accept()) {
          s.setSoTimeout(20_000);
          Thread.sleep(1500); // the upstream socket fills, the proxy stops taking the client's DATA
          long n = s.getInputStream().transferTo(OutputStream.nullOutputStream());
          s.getOutputStream().write("done".getBytes(StandardCharsets.US_ASCII));
          return n;
        } catch (IOException | InterruptedException e) {
          throw new RuntimeException(e);
        }
      }, threads);
      H2Tunnel tunnel = connected(client, server);
      client.timeout(Duration.ofSeconds(20));
      tunnel.send(new byte[size], true);
      assertThat(origin.get(30, TimeUnit.SECONDS)).isEqualTo(size);
      assertThat(new String(tunnel.readToEnd(), StandardCharsets.US_ASCII)).isEqualTo("done");
    }
  }

  /**
   * RST_STREAM from the client mid-tunnel: the origin's connection is reset, not finished (RFC 9113
   * §8.5), the tunnel is logged, and the HTTP/2 connection serves on.
   */
  @Test
  void aClientResetMidTunnelResetsTheOrigin() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        FakeUpstream other = FakeUpstream.start("other");
        ProxyUnderTest proxy = proxy("connectPorts: [" + server.getLocalPort() + "]\n"
            + "rules:\n  - allow: { name: local, hosts: [\"127.0.0.1\"] }\n");
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      CompletableFuture<Throwable> originEnd = CompletableFuture.supplyAsync(() -> {
        try (Socket s = server.accept()) {
          s.setSoTimeout(20_000);
          InputStream in = s.getInputStream();
          byte[] first = in.readNBytes(4);
          s.getOutputStream().write(first); // the client sees the tunnel work, then resets it
          s.getOutputStream().flush();
          while (in.read() >= 0) {
            // until the proxy ends the connection
          }
          return null;
        } catch (IOException e) {
          return e;
        }
      }, threads);
      H2Tunnel tunnel = connected(client, server);
      tunnel.send("ping".getBytes(StandardCharsets.US_ASCII), false);
      assertThat(new String(tunnel.readAtLeast(4), StandardCharsets.US_ASCII)).isEqualTo("ping");
      client.rstStream(1, 0x8); // CANCEL
      assertThat(originEnd.get(20, TimeUnit.SECONDS)).isInstanceOf(SocketException.class)
          .hasMessageContaining("reset");
      assertThat(accessLogLine().get("bytes_in").asLong()).isEqualTo(4);
      client.headers(3, true, get("http", "127.0.0.1:" + other.port(), "/next"));
      assertThat(client.awaitResponse(3).status()).isEqualTo("200");
    }
  }

  /** The origin resets its connection: the stream is reset with CONNECT_ERROR (RFC 9113 §8.5). */
  @Test
  void anOriginResetIsConnectError() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ProxyUnderTest proxy = proxy(allowLocal(server.getLocalPort()));
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      CompletableFuture<Void> origin = CompletableFuture.runAsync(() -> {
        try {
          Socket s = server.accept();
          s.getInputStream().readNBytes(4);
          s.setSoLinger(true, 0);
          s.close(); // RST
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      }, threads);
      H2Tunnel tunnel = connected(client, server);
      tunnel.send("ping".getBytes(StandardCharsets.US_ASCII), false);
      origin.get(20, TimeUnit.SECONDS);
      assertThat(tunnel.awaitReset()).isEqualTo(0xa); // CONNECT_ERROR
    }
  }

  /** A tunnel stream outlives a drain until its deadline, then it is cut and logged as drain_deadline. */
  @Test
  void aTunnelStreamCutAtTheDrainDeadlineIsLoggedAsSuch() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ProxyUnderTest proxy = proxy(allowLocal(server.getLocalPort()));
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      CompletableFuture<Void> origin = CompletableFuture.runAsync(() -> echo(server), threads);
      H2Tunnel tunnel = connected(client, server);
      tunnel.send("ping".getBytes(StandardCharsets.US_ASCII), false);
      assertThat(new String(tunnel.readAtLeast(4), StandardCharsets.US_ASCII)).isEqualTo("ping");
      proxy.stop(Duration.ofMillis(700)); // the tunnel stays open until the deadline cuts it
      originEnds(origin); // its stream cut, the origin's connection is reset (RFC 9113 §8.5)
      JsonNode line = accessLogLine();
      assertThat(line.get("method").asText()).isEqualTo("CONNECT");
      assertThat(line.get("outcome").asText()).isEqualTo("drain_deadline");
      assertThat(line.get("bytes_in").asLong()).isEqualTo(4);
      assertThat(line.get("bytes_out").asLong()).isEqualTo(4);
    }
  }

  /** No byte either way for the idle timeout: the stream is reset, the origin closed, the log says why. */
  @Test
  void anIdleTunnelStreamIsResetAndItsOriginClosed() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ProxyUnderTest proxy = ProxyUnderTest.startYaml("""
            admin: { bind: 127.0.0.1:0 }
            accessLog: { enabled: true, format: json, path: %s }
            limits: { idleTimeout: 1s }
            listeners:
              - name: egress
                bind: 127.0.0.1:0
                mode: forward
                tls: { certificates: [ { cert: %s, key: %s } ], alpn: [h2, http/1.1] }
                forward: { connectPorts: [%d], rules: [ { allow: { hosts: ["127.0.0.1"] } } ], default: deny }
            """.formatted(log, certs.certificate(), certs.privateKey(), server.getLocalPort()));
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      CompletableFuture<Void> origin = CompletableFuture.runAsync(() -> echo(server), threads);
      H2Tunnel tunnel = connected(client, server);
      tunnel.send("ping".getBytes(StandardCharsets.US_ASCII), false);
      assertThat(new String(tunnel.readAtLeast(4), StandardCharsets.US_ASCII)).isEqualTo("ping");
      client.timeout(Duration.ofSeconds(20));
      assertThat(tunnel.awaitReset()).isEqualTo(0x8); // CANCEL
      originEnds(origin); // its stream cut, the origin's connection is reset (RFC 9113 §8.5)
      assertThat(accessLogLine().get("outcome").asText()).isEqualTo("upstream_timeout");
    }
  }

  @Test
  void aTunnelNeedsProxyCredentialsLikeAnHttp1One() throws Exception {
    Path users = dir.resolve("users.htpasswd");
    Files.writeString(users, "alice:" + BCrypt.hashpw("wonderland", BCrypt.gensalt(6)) + "\n");
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ProxyUnderTest proxy = proxy("auth: { realm: corp, users: " + users + " }\n" + allowLocal(server.getLocalPort()));
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      CompletableFuture<Void> origin = CompletableFuture.runAsync(() -> echo(server), threads);
      H2Tunnel anonymous = new H2Tunnel(client, 1).connect("127.0.0.1:" + server.getLocalPort());
      anonymous.send("sent ahead of the answer".getBytes(StandardCharsets.US_ASCII), false); // dropped, released
      assertThat(anonymous.awaitStatus()).isEqualTo("407");
      String credentials = "Basic " + Base64.getEncoder().encodeToString("alice:wonderland".getBytes(StandardCharsets.UTF_8));
      H2Tunnel alice = new H2Tunnel(client, 3)
          .connect("127.0.0.1:" + server.getLocalPort(), "proxy-authorization", credentials);
      assertThat(alice.awaitStatus()).isEqualTo("200");
      alice.send("hi".getBytes(StandardCharsets.US_ASCII), true);
      assertThat(new String(alice.readToEnd(), StandardCharsets.US_ASCII)).isEqualTo("hi");
      origin.get(20, TimeUnit.SECONDS);
      assertThat(accessLogLines()).anySatisfy(l -> assertThat(l.get("user").asText()).isEqualTo("alice"));
    }
  }

  /** RFC 9110 §9.3.6: a CONNECT has no content; one that declares some is refused, as on HTTP/1.1. */
  @Test
  void aConnectThatDeclaresContentIs400() throws Exception {
    try (ProxyUnderTest proxy = proxy(allowLocal(443));
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      client.headers(1, false, RawH2Client.fields(":method", "CONNECT", ":authority", "127.0.0.1:443",
          "content-length", "2"));
      client.data(1, true, "hi");
      RawH2Client.Response r = client.awaitResponse(1);
      assertThat(r.status()).isEqualTo("400");
      assertThat(r.body()).contains("CONNECT with content");
    }
  }

  /**
   * After a local reply the rest of the request is read and dropped, but not forever: a client that
   * neither ends its stream nor resets it has it reset after the linger time, as a socket is closed.
   */
  @Test
  void aRefusedStreamTheClientKeepsOpenIsResetAfterTheLinger() throws Exception {
    try (ProxyUnderTest proxy = proxy("connectPorts: [443]\nrules:\n  - deny: { name: no-example, hosts: [\"example.com\"] }\n");
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      H2Tunnel tunnel = new H2Tunnel(client, 1).connect("example.com:443");
      tunnel.send("sent ahead".getBytes(StandardCharsets.US_ASCII), false);
      assertThat(tunnel.awaitStatus()).isEqualTo("403");
      client.timeout(Duration.ofSeconds(20));
      assertThat(tunnel.awaitReset()).isEqualTo(0x8); // CANCEL
    }
  }

  @Test
  void trailersOnATunnelStreamAreAStreamError() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ProxyUnderTest proxy = proxy(allowLocal(server.getLocalPort()));
        RawH2Client client = RawH2Client.connect(proxy.port(), certs)) {
      CompletableFuture<Throwable> origin = CompletableFuture.supplyAsync(() -> {
        try {
          echo(server);
          return null;
        } catch (RuntimeException e) {
          return e.getCause();
        }
      }, threads);
      H2Tunnel tunnel = connected(client, server);
      client.headers(1, true, RawH2Client.fields("x-trailer", "no")); // §8.5: only DATA on a connected stream
      assertThat(tunnel.awaitReset()).isEqualTo(0x1); // PROTOCOL_ERROR
      assertThat(origin.get(20, TimeUnit.SECONDS)).isInstanceOf(SocketException.class); // reset, not a FIN
    }
  }

  /** Copies everything the one connection sends back to it, then shuts output; returns the count. */
  /** Waits for an origin's connection to end, by its client's FIN or reset. */
  private static void originEnds(CompletableFuture<?> origin) throws Exception {
    origin.handle((done, failed) -> null).get(20, TimeUnit.SECONDS);
  }

  private static long echo(ServerSocket server) {
    try (Socket s = server.accept()) {
      s.setSoTimeout(20_000);
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      byte[] buf = new byte[64 * 1024];
      long total = 0;
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
        total += n;
      }
      s.shutdownOutput();
      return total;
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
  }

  private JsonNode accessLogLine() throws Exception {
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(log) && !Files.readAllLines(log).isEmpty());
    return new ObjectMapper().readTree(Files.readAllLines(log).get(0));
  }

  private List<JsonNode> accessLogLines() throws Exception {
    await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(log) && Files.readAllLines(log).size() >= 2);
    ObjectMapper json = new ObjectMapper();
    return Files.readAllLines(log).stream().map(l -> {
      try {
        return json.readTree(l);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    }).toList();
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  /** A CONNECT on stream 1 of {@code client} to {@code server}, answered 200. */
  private static H2Tunnel connected(RawH2Client client, ServerSocket server) throws IOException {
    H2Tunnel tunnel = new H2Tunnel(client, 1).connect("127.0.0.1:" + server.getLocalPort());
    assertThat(tunnel.awaitStatus()).isEqualTo("200");
    return tunnel;
  }
}
