package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.FreePorts;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.TestCerts;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Interop with a real HAProxy (Debian's package) on both sides: a TCP-mode HAProxy with
 * {@code send-proxy-v2} in front of Gatehouse (as an L4 balancer would be), and an HTTP-mode
 * HAProxy with {@code accept-proxy} behind a cluster with {@code proxyProtocol: v2}. The client's
 * address must survive both hops. Skipped where haproxy is not installed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HaproxyProxyProtocolTest {
  private static final String CLIENT = "127.0.0.4";
  private static final String BALANCER = "127.0.0.3";

  @Test
  void client_address_survives_haproxy_send_proxy_v2_in_front_and_accept_proxy_behind(@TempDir Path dir)
      throws Exception {
    Path haproxy = haproxy();
    assumeTrue(haproxy != null, "haproxy not installed");
    int front = FreePorts.take();
    int back = FreePorts.take();
    try (FakeUpstream origin = FakeUpstream.start("origin");
        ProxyUnderTest gatehouse = ProxyUnderTest.start("""
            listeners: [ { name: lb, bind: 127.0.0.1:0, mode: reverse, proxyProtocol: { trustedFrom: ["%s"] } } ]
            routes: [ { name: all, cluster: behind } ]
            clusters: [ { name: behind, proxyProtocol: v2, endpoints: ["127.0.0.1:%d"] } ]
            """.formatted(BALANCER, back))) {
      Path config = dir.resolve("haproxy.cfg");
      Files.writeString(config, """
          global
              maxconn 100
          defaults
              timeout connect 5s
              timeout client 30s
              timeout server 30s
          frontend l4
              mode tcp
              bind 127.0.0.1:%d
              default_backend gatehouse
          backend gatehouse
              mode tcp
              server gh 127.0.0.1:%d send-proxy-v2 source %s
          frontend origin_side
              mode http
              bind 127.0.0.1:%d accept-proxy
              http-request set-header X-Haproxy-Src %%[src]
              default_backend origin
          backend origin
              mode http
              server o %s
          """.formatted(front, gatehouse.port(), BALANCER, back, origin.address()));
      Process process = new ProcessBuilder(haproxy.toString(), "-db", "-f", config.toString())
          .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
      try {
        await().atMost(Duration.ofSeconds(10)).until(() -> canConnect(front) && canConnect(back));
        try (RawHttpClient client = RawHttpClient.connectFrom(CLIENT, front)) {
          client.send("GET /interop HTTP/1.1\r\nHost: site\r\n\r\n");
          assertThat(client.readResponse().status()).as(Files.readString(dir.resolve("haproxy.log"))).isEqualTo(200);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> origin.requests().stream().anyMatch(r -> r.uri().equals("/interop")));
        RecordedRequest seen = origin.requests().stream().filter(r -> r.uri().equals("/interop")).findFirst().orElseThrow();
        assertThat(seen.header("X-Forwarded-For")).isEqualTo(CLIENT); // Gatehouse read HAProxy's v2 header
        assertThat(seen.header("X-Haproxy-Src")).isEqualTo(CLIENT); // HAProxy read Gatehouse's v2 header
      } finally {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      }
    }
  }

  /** Over TLS to the origin the header still comes first: HAProxy reads it before its handshake. */
  @Test
  void header_goes_before_the_client_hello_to_a_tls_origin(@TempDir Path dir) throws Exception {
    Path haproxy = haproxy();
    assumeTrue(haproxy != null, "haproxy not installed");
    TestCerts certs = TestCerts.selfSigned(dir);
    Path pem = dir.resolve("haproxy.pem");
    Files.writeString(pem, Files.readString(certs.certificate()) + Files.readString(certs.privateKey()));
    int back = FreePorts.take();
    try (FakeUpstream origin = FakeUpstream.start("origin");
        ProxyUnderTest gatehouse = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: all, cluster: behind } ]
            clusters: [ { name: behind, proxyProtocol: v1, tls: { verify: false }, endpoints: ["127.0.0.1:%d"] } ]
            """.formatted(back))) {
      Path config = dir.resolve("haproxy.cfg");
      Files.writeString(config, """
          global
              maxconn 100
          defaults
              mode http
              timeout connect 5s
              timeout client 30s
              timeout server 30s
          frontend origin_side
              bind 127.0.0.1:%d accept-proxy ssl crt %s
              http-request set-header X-Haproxy-Src %%[src]
              http-request set-header X-Haproxy-Tls %%[ssl_fc]
              default_backend origin
          backend origin
              server o %s
          """.formatted(back, pem, origin.address()));
      Process process = new ProcessBuilder(haproxy.toString(), "-db", "-f", config.toString())
          .redirectErrorStream(true).redirectOutput(dir.resolve("haproxy.log").toFile()).start();
      try {
        await().atMost(Duration.ofSeconds(10)).until(() -> canConnect(back));
        try (RawHttpClient client = RawHttpClient.connectFrom(CLIENT, gatehouse.port())) {
          client.send("GET /tls-origin HTTP/1.1\r\nHost: site\r\n\r\n");
          assertThat(client.readResponse().status()).as(Files.readString(dir.resolve("haproxy.log"))).isEqualTo(200);
        }
        await().atMost(Duration.ofSeconds(5))
            .until(() -> origin.requests().stream().anyMatch(r -> r.uri().equals("/tls-origin")));
        RecordedRequest seen = origin.requests().stream().filter(r -> r.uri().equals("/tls-origin")).findFirst().orElseThrow();
        assertThat(seen.header("X-Haproxy-Src")).isEqualTo(CLIENT);
        assertThat(seen.header("X-Haproxy-Tls")).isEqualTo("1");
      } finally {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      }
    }
  }

  private static Path haproxy() {
    for (String d : (System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin").split(":")) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, "haproxy"))) {
        return Path.of(d, "haproxy");
      }
    }
    return null;
  }

  private static boolean canConnect(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
