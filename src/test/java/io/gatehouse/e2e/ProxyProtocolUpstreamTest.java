package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Clusters with {@code proxyProtocol} open every upstream connection with a PROXY header naming
 * the client (and the address it connected to), byte for byte as HAProxy's spec writes it; a
 * connection carries one client connection's requests only, all of them, and closes with it;
 * health probes send v2 LOCAL / v1 UNKNOWN.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ProxyProtocolUpstreamTest {

  @Test
  void v2_header_names_the_client_and_the_listener_address_exactly() throws Exception {
    try (Origin origin = new Origin(true);
        ProxyUnderTest proxy = ProxyUnderTest.start(config("v2", origin, ""))) {
      try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
        client.send("GET /a HTTP/1.1\r\nHost: site\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(200);
        int clientPort = client.socket().getLocalPort();
        Origin.Connection seen = origin.awaitConnection(0);
        assertThat(seen.header).isEqualTo(v2("127.0.0.1", clientPort, "127.0.0.1", proxy.port()));
        assertThat(seen.requestLines).containsExactly("GET /a HTTP/1.1");
      }
    }
  }

  @Test
  void v1_header_is_the_text_line() throws Exception {
    try (Origin origin = new Origin(false);
        ProxyUnderTest proxy = ProxyUnderTest.start(config("v1", origin, ""))) {
      try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
        client.send("GET /v1 HTTP/1.1\r\nHost: site\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(200);
        String expected = "PROXY TCP4 127.0.0.1 127.0.0.1 " + client.socket().getLocalPort() + " " + proxy.port() + "\r\n";
        assertThat(new String(origin.awaitConnection(0).header, StandardCharsets.US_ASCII)).isEqualTo(expected);
      }
    }
  }

  @Test
  void a_client_connection_keeps_its_own_upstream_connection_and_no_other_client_gets_it() throws Exception {
    try (Origin origin = new Origin(true);
        ProxyUnderTest proxy = ProxyUnderTest.start(config("v2", origin, ""))) {
      try (RawHttpClient first = RawHttpClient.connect(proxy.port());
          RawHttpClient second = RawHttpClient.connect(proxy.port())) {
        // Interleaved: the first client's connection is parked while the second one asks.
        for (int j = 0; j < 2; j++) {
          for (RawHttpClient client : List.of(first, second)) {
            client.send("GET /c" + client.socket().getLocalPort() + "-" + j + " HTTP/1.1\r\nHost: site\r\n\r\n");
            assertThat(client.readResponse().status()).isEqualTo(200);
          }
        }
        // One upstream connection per client, each with its client's header and both its requests.
        assertThat(origin.connections).hasSize(2);
        for (RawHttpClient client : List.of(first, second)) {
          int port = client.socket().getLocalPort();
          Origin.Connection c = origin.connections.stream()
              .filter(k -> java.util.Arrays.equals(k.header, uncheckedV2(port, proxy.port()))).findFirst().orElseThrow();
          assertThat(c.requestLines).containsExactly("GET /c" + port + "-0 HTTP/1.1", "GET /c" + port + "-1 HTTP/1.1");
          assertThat(c.closed).isFalse();
        }
        int firstPort = first.socket().getLocalPort();
        first.close();
        // The first client left: its upstream connection closes with it; the second keeps its own.
        await().atMost(Duration.ofSeconds(5)).until(() -> origin.connections.stream()
            .filter(k -> java.util.Arrays.equals(k.header, uncheckedV2(firstPort, proxy.port()))).allMatch(k -> k.closed));
        second.send("GET /again HTTP/1.1\r\nHost: site\r\n\r\n");
        assertThat(second.readResponse().status()).isEqualTo(200);
        assertThat(origin.connections).hasSize(2);
      }
    }
  }

  @Test
  void draining_the_endpoint_closes_a_connection_parked_for_its_client() throws Exception {
    try (Origin origin = new Origin(true);
        ProxyUnderTest proxy = ProxyUnderTest.start("admin: { bind: 127.0.0.1:0, token: t0ken }\n"
            + config("v2", origin, ""))) {
      try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
        client.send("GET /before HTTP/1.1\r\nHost: site\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(200);
        Origin.Connection parked = origin.awaitConnection(0);
        assertThat(parked.closed).isFalse();
        java.net.http.HttpResponse<String> drain = java.net.http.HttpClient.newHttpClient().send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + proxy.server().adminAddress().getPort()
                    + "/api/v1/clusters/origin/endpoints/127.0.0.1:" + origin.port() + "/drain"))
                .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer t0ken")
                .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(drain.statusCode()).as(drain.body()).isEqualTo(200);
        // The client is still connected; its parked upstream connection closes with the drain.
        await().atMost(Duration.ofSeconds(5)).until(() -> parked.closed);
      }
    }
  }

  private static byte[] uncheckedV2(int clientPort, int proxyPort) {
    try {
      return v2("127.0.0.1", clientPort, "127.0.0.1", proxyPort);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void the_client_of_an_incoming_proxy_header_is_passed_on() throws Exception {
    try (Origin origin = new Origin(true);
        ProxyUnderTest proxy = ProxyUnderTest.start(config("v2", origin,
            ", proxyProtocol: { trustedFrom: [\"127.0.0.2\"] }"))) {
      try (RawHttpClient client = RawHttpClient.connectFrom(ProxyProtocolListenerTest.BALANCER, proxy.port())) {
        client.send(ProxyProtocolListenerTest.v2Proxy("2001:db8::7", 40000, "2001:db8::1", 443));
        client.send("GET /chained HTTP/1.1\r\nHost: site\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(200);
      }
      assertThat(origin.awaitConnection(0).header).isEqualTo(v2("2001:db8::7", 40000, "2001:db8::1", 443));
    }
  }

  @Test
  void health_probes_send_local_or_unknown() throws Exception {
    try (Origin v2Origin = new Origin(true);
        Origin v1Origin = new Origin(false);
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: all, cluster: two } ]
            clusters:
              - { name: two, proxyProtocol: v2, endpoints: ["127.0.0.1:%d"],
                  healthCheck: { path: /healthz, interval: 1s, timeout: 1s } }
              - { name: one, proxyProtocol: v1, endpoints: ["127.0.0.1:%d"],
                  healthCheck: { path: /healthz, interval: 1s, timeout: 1s } }
            """.formatted(v2Origin.port(), v1Origin.port()))) {
      Origin.Connection probe = v2Origin.awaitConnection(0);
      byte[] local = ByteBuffer.allocate(16).put(ProxyProtocolListenerTest.V2_SIGNATURE)
          .put((byte) 0x20).put((byte) 0x00).putShort((short) 0).array();
      assertThat(probe.header).isEqualTo(local);
      assertThat(probe.requestLines).containsExactly("GET /healthz HTTP/1.1");
      assertThat(new String(v1Origin.awaitConnection(0).header, StandardCharsets.US_ASCII)).isEqualTo("PROXY UNKNOWN\r\n");
    }
  }

  private static String config(String version, Origin origin, String listenerExtra) {
    return """
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse%s } ]
        routes: [ { name: all, cluster: origin } ]
        clusters: [ { name: origin, proxyProtocol: %s, endpoints: ["127.0.0.1:%d"] } ]
        """.formatted(listenerExtra, version, origin.port());
  }

  /** A v2 PROXY header for TCP4 or TCP6, as the spec lays it out (section 2.2). */
  static byte[] v2(String source, int sourcePort, String destination, int destinationPort) throws IOException {
    return ProxyProtocolListenerTest.v2Proxy(source, sourcePort, destination, destinationPort);
  }

  /**
   * An origin that requires a PROXY header: it reads the header's exact bytes (v2: 16 bytes and
   * the length they announce; v1: one line), then HTTP/1.1 heads, answering each with 200
   * keep-alive, and records both. One thread per connection; everything closes with it.
   */
  static final class Origin implements AutoCloseable {
    static final class Connection {
      volatile byte[] header;
      final List<String> requestLines = new CopyOnWriteArrayList<>();
      /** The proxy closed the connection (EOF). */
      volatile boolean closed;
    }

    final List<Connection> connections = new CopyOnWriteArrayList<>();
    private final ServerSocket server;
    private final boolean binary;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    Origin(boolean binary) throws IOException {
      this.binary = binary;
      this.server = new ServerSocket();
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      Thread acceptor = new Thread(this::accept, "proxy-protocol-origin");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return server.getLocalPort();
    }

    Connection awaitConnection(int index) {
      await().atMost(Duration.ofSeconds(10))
          .until(() -> connections.size() > index && connections.get(index).header != null
              && !connections.get(index).requestLines.isEmpty());
      return connections.get(index);
    }

    private void accept() {
      while (!server.isClosed()) {
        try {
          Socket socket = server.accept();
          socket.setSoTimeout(10_000);
          sockets.add(socket);
          Connection c = new Connection();
          connections.add(c);
          Thread t = new Thread(() -> serve(socket, c), "proxy-protocol-origin-conn");
          t.setDaemon(true);
          t.start();
        } catch (IOException e) {
          return; // closed
        }
      }
    }

    private void serve(Socket socket, Connection c) {
      try (socket) {
        InputStream in = socket.getInputStream();
        c.header = binary ? readV2(in) : readLine(in).getBytes(StandardCharsets.US_ASCII);
        while (true) {
          String requestLine = readLine(in);
          if (requestLine.isEmpty()) {
            c.closed = true;
            return; // EOF
          }
          while (!readLine(in).equals("\r\n")) {
            // header fields: skipped
          }
          c.requestLines.add(requestLine.strip());
          socket.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
        }
      } catch (IOException e) {
        // the proxy closed the connection
      }
    }

    private static byte[] readV2(InputStream in) throws IOException {
      byte[] fixed = in.readNBytes(16);
      int length = ((fixed[14] & 0xff) << 8) | (fixed[15] & 0xff);
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      all.write(fixed);
      all.write(in.readNBytes(length));
      return all.toByteArray();
    }

    /** One line with its CRLF; empty at EOF. */
    private static String readLine(InputStream in) throws IOException {
      StringBuilder line = new StringBuilder();
      int b;
      while ((b = in.read()) >= 0) {
        line.append((char) b);
        if (b == '\n') {
          break;
        }
      }
      return line.toString();
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket s : sockets) {
        s.close();
      }
    }
  }
}
