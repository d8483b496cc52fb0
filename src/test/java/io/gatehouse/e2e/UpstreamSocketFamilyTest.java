package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * An upstream connection to an IPv4 address is an IPv4 socket, not an IPv6 one connected to a
 * mapped address (one system call more per connection, and the kernel's IPv6 path): the kernel's
 * own tables say which family the proxy's side of the connection has ({@code /proc/net/tcp} lists
 * IPv4 sockets, {@code /proc/net/tcp6} IPv6 ones, mapped or not).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
@EnabledOnOs(OS.LINUX)
class UpstreamSocketFamilyTest {
  @Test
  void the_upstream_socket_to_an_ipv4_origin_is_an_ipv4_socket() throws Exception {
    try (ServerSocket origin = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      CompletableFuture<Integer> proxySidePort = new CompletableFuture<>();
      Thread serve = new Thread(() -> {
        try (Socket s = origin.accept()) {
          proxySidePort.complete(s.getPort());
          InputStream in = s.getInputStream();
          byte[] buf = new byte[4096];
          StringBuilder head = new StringBuilder();
          while (head.indexOf("\r\n\r\n") < 0) {
            int n = in.read(buf);
            if (n < 0) {
              return;
            }
            head.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
          }
          OutputStream out = s.getOutputStream();
          out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
          in.read(buf); // hold the connection until the proxy closes it
        } catch (Exception e) {
          proxySidePort.completeExceptionally(e);
        }
      });
      serve.setDaemon(true);
      serve.start();
      try (ProxyUnderTest proxy = ProxyUnderTest.start("""
          listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
          routes: [ { name: all, cluster: origin } ]
          clusters: [ { name: origin, endpoints: ["127.0.0.1:${PORT}"] } ]
          """, Map.of("PORT", String.valueOf(origin.getLocalPort())));
          RawHttpClient client = proxy.connect()) {
        client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(200);
        int port = proxySidePort.get(10, TimeUnit.SECONDS);
        // The connection stays pooled: its proxy side is listed while this runs. A socket is named by
        // both its ports (local = the proxy's side, remote = the origin's): another process or test may
        // hold an unrelated IPv6 socket with the same local port number.
        String connection = port + "->" + origin.getLocalPort();
        assertThat(connections(Path.of("/proc/net/tcp"))).as("IPv4 sockets").contains(connection);
        assertThat(connections(Path.of("/proc/net/tcp6"))).as("IPv6 sockets").doesNotContain(connection);
      }
    }
  }

  /**
   * The sockets a {@code /proc/net/tcp*} table lists, as {@code localPort->remotePort} (columns 2 and
   * 3, {@code ADDR:PORT} in hex).
   */
  private static List<String> connections(Path table) throws Exception {
    if (!Files.exists(table)) {
      return List.of();
    }
    return Files.readAllLines(table).stream().skip(1)
        .map(line -> line.trim().split("\\s+"))
        .map(columns -> port(columns[1]) + "->" + port(columns[2]))
        .toList();
  }

  private static int port(String addressAndPort) {
    return Integer.parseInt(addressAndPort.substring(addressAndPort.indexOf(':') + 1).toUpperCase(Locale.ROOT), 16);
  }
}
