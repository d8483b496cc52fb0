package io.gatehouse.forward;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.Curl;
import io.gatehouse.testing.CurlResult;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.TestCerts;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ForwardConnectTest {

  private static String allowPort(int port) {
    return "connectPorts: [443, " + port + "]\n"
        + "rules:\n  - allow: { name: local-origins, hosts: [\"127.0.0.1\", \"localhost\"] }\ndefault: deny\n";
  }

  @Test
  void curlTunnelsTlsToTheOrigin() throws Exception {
    TestCerts certs = TestCerts.selfSigned();
    try (FakeUpstream origin = FakeUpstream.startTls("tls-origin", certs);
        ProxyUnderTest proxy = ProxyUnderTest.start(allowPort(origin.port()))) {
      CurlResult r = Curl.get("https://localhost:" + origin.port() + "/secure")
          .proxy(proxy.address()).proxytunnel().cacert(certs.certificate()).run();

      assertThat(r.connectStatus()).isEqualTo(200);
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.stdout()).isEqualTo("tls-origin");
      assertThat(origin.lastRequest().uri()).isEqualTo("/secure");
    }
  }

  @Test
  void bytesInTheSamePacketAsTheConnectHeadReachTheOrigin() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("plain-origin");
        ProxyUnderTest proxy = ProxyUnderTest.start(allowPort(origin.port()));
        RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      client.send("CONNECT 127.0.0.1:" + origin.port() + " HTTP/1.1\r\nHost: 127.0.0.1:" + origin.port() + "\r\n\r\n"
          + "GET /early HTTP/1.1\r\nHost: tunnelled\r\n\r\n");
      RawResponse established = client.readResponse("CONNECT");
      assertThat(established.status()).isEqualTo(200);
      assertThat(established.reason()).isEqualTo("Connection established");
      assertThat(established.header("Date")).as("RFC 9110 §6.6.1").isNotNull();
      RawResponse inner = client.readResponse();
      assertThat(inner.status()).isEqualTo(200);
      assertThat(inner.bodyAsString()).isEqualTo("plain-origin");
      assertThat(origin.lastRequest().uri()).isEqualTo("/early");
      assertThat(origin.lastRequest().header("Host")).isEqualTo("tunnelled");
    }
  }

  @Test
  void halfCloseIsRelayedBothWays() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ProxyUnderTest proxy = ProxyUnderTest.start(allowPort(server.getLocalPort()))) {
      // The origin reads until the client's FIN reaches it, then still answers: only a relayed
      // half-close (not a full close) lets the answer come back.
      CompletableFuture<Void> originDone = CompletableFuture.runAsync(() -> {
        try (Socket s = server.accept()) {
          s.setSoTimeout(10_000);
          byte[] all = s.getInputStream().readAllBytes();
          OutputStream out = s.getOutputStream();
          out.write(("got " + all.length + " bytes").getBytes(StandardCharsets.US_ASCII));
          out.flush();
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
        client.setSoTimeout(10_000);
        OutputStream out = client.getOutputStream();
        out.write(("CONNECT 127.0.0.1:" + server.getLocalPort() + " HTTP/1.1\r\nHost: x\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = client.getInputStream();
        String head = readHead(in);
        assertThat(head).startsWith("HTTP/1.1 200 Connection established");
        out.write("hello".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        client.shutdownOutput();
        String answer = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(answer).isEqualTo("got 5 bytes");
      }
      originDone.get(10, TimeUnit.SECONDS);
    }
  }

  /**
   * Bytes the client sends in their own segments while the upstream is still connecting (the proxy
   * keeps a read pending meanwhile, ConnectTunnel.open): held, then relayed first and in order. The
   * target's accept queue is full, so the proxy's SYN is dropped and its connect lasts until the
   * retransmission after the queue is emptied (about a second).
   */
  @Test
  void bytesSentWhileTheUpstreamConnectsReachItFirstAndInOrder() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket filler1 = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
        Socket filler2 = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
        ProxyUnderTest proxy = ProxyUnderTest.start(allowPort(server.getLocalPort()));
        Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
      client.setTcpNoDelay(true);
      client.setSoTimeout(10_000);
      OutputStream out = client.getOutputStream();
      out.write(("CONNECT 127.0.0.1:" + server.getLocalPort() + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      Thread.sleep(300); // the proxy's SYN meets the full queue
      out.write("early-1;".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      Thread.sleep(100);
      out.write("early-2;".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      server.accept().close(); // the queue empties; the proxy's retransmitted SYN gets through
      server.accept().close();
      server.setSoTimeout(10_000);
      try (Socket upstream = server.accept()) {
        upstream.setSoTimeout(10_000);
        byte[] expected = "early-1;early-2;".getBytes(StandardCharsets.US_ASCII);
        byte[] got = upstream.getInputStream().readNBytes(expected.length);
        assertThat(new String(got, StandardCharsets.US_ASCII)).isEqualTo("early-1;early-2;");
        upstream.getOutputStream().write("ok".getBytes(StandardCharsets.US_ASCII));
        upstream.getOutputStream().flush();
        InputStream in = client.getInputStream();
        assertThat(readHead(in)).startsWith("HTTP/1.1 200 Connection established");
        assertThat(new String(in.readNBytes(2), StandardCharsets.US_ASCII)).isEqualTo("ok");
      }
    }
  }

  /**
   * CONNECT, the first tunnel bytes and the FIN all before the tunnel is up (RFC 9112 §9.6): the
   * bytes reach the origin, the FIN follows them, and the origin's answer still comes back.
   */
  @Test
  void halfCloseRightAfterTheConnectHeadIsRelayedWithTheEarlyBytes() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ProxyUnderTest proxy = ProxyUnderTest.start(allowPort(server.getLocalPort()))) {
      CompletableFuture<Void> originDone = CompletableFuture.runAsync(() -> {
        try (Socket s = server.accept()) {
          s.setSoTimeout(10_000);
          byte[] all = s.getInputStream().readAllBytes(); // until the relayed FIN
          s.getOutputStream().write(("got " + new String(all, StandardCharsets.US_ASCII)).getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      try (Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
        client.setSoTimeout(10_000);
        client.getOutputStream().write(("CONNECT 127.0.0.1:" + server.getLocalPort() + " HTTP/1.1\r\nHost: x\r\n\r\nearly")
            .getBytes(StandardCharsets.US_ASCII));
        client.shutdownOutput();
        InputStream in = client.getInputStream();
        assertThat(readHead(in)).startsWith("HTTP/1.1 200 Connection established");
        assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII)).isEqualTo("got early");
      }
      originDone.get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void unreachableTunnelTargetIs502AndCloses() throws Exception {
    int deadPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      deadPort = s.getLocalPort();
    }
    try (ProxyUnderTest proxy = ProxyUnderTest.start(allowPort(deadPort));
        RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      client.send("CONNECT 127.0.0.1:" + deadPort + " HTTP/1.1\r\nHost: x\r\n\r\n");
      RawResponse r = client.readResponse("CONNECT");
      assertThat(r.status()).isEqualTo(502);
      assertThat(client.isClosedByPeer()).isTrue();
    }
  }

  @Test
  void idleTunnelIsClosedAndRecorded() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        ProxyUnderTest proxy = ProxyUnderTest.startYaml("""
            admin: { bind: 127.0.0.1:0 }
            limits: { idleTimeout: 300ms }
            listeners:
              - name: egress
                bind: 127.0.0.1:0
                mode: forward
                forward:
                  connectPorts: [%d]
                  rules:
                    - allow: { name: local, hosts: ["127.0.0.1"] }
            """.formatted(server.getLocalPort()));
        Socket client = new Socket(InetAddress.getLoopbackAddress(), proxy.port())) {
      client.setSoTimeout(10_000);
      client.getOutputStream().write(("CONNECT 127.0.0.1:" + server.getLocalPort() + " HTTP/1.1\r\nHost: x\r\n\r\nping")
          .getBytes(StandardCharsets.US_ASCII));
      try (Socket origin = server.accept()) {
        origin.setSoTimeout(10_000);
        assertThat(new String(origin.getInputStream().readNBytes(4), StandardCharsets.US_ASCII)).isEqualTo("ping");
        origin.getOutputStream().write("pong!".getBytes(StandardCharsets.US_ASCII));
        InputStream in = client.getInputStream();
        assertThat(readHead(in)).startsWith("HTTP/1.1 200");
        assertThat(new String(in.readNBytes(5), StandardCharsets.US_ASCII)).isEqualTo("pong!");
        // nothing moves: the proxy closes both sides after the idle timeout
        assertThat(in.read()).isEqualTo(-1);
        assertThat(origin.getInputStream().read()).isEqualTo(-1);
      }
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(5))
          .until(() -> proxy.server.metrics().requests("egress", "", "", 200) == 1);
    }
  }

  private static String readHead(InputStream in) throws Exception {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        break;
      }
      head.write(b);
    }
    return head.toString(StandardCharsets.US_ASCII);
  }
}
