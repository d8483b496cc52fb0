package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RawHttpClient;
import io.netty.channel.epoll.Epoll;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * systemd socket activation (LISTEN_FDS) through {@code systemd-socket-activate}, which binds the
 * port, then execs Gatehouse with the socket as descriptor 3: the listener adopts it instead of
 * binding (binding would fail: the port is taken), and a connection made before the JVM is up
 * waits in the accept queue and is answered, not refused.
 */
@Timeout(60)
class SocketActivationTest {
  @TempDir Path dir;

  @Test
  void the_listener_adopts_the_passed_socket_and_a_connection_made_before_start_is_answered() throws Exception {
    assumeThat(Epoll.isAvailable()).isTrue();
    assumeThat(Path.of("/usr/bin/systemd-socket-activate")).exists();
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    try (FakeUpstream origin = FakeUpstream.start("o")) {
      Path config = dir.resolve("g.yaml");
      Files.writeString(config, """
          admin: { bind: 127.0.0.1:0 }
          listeners: [ { name: web, bind: 127.0.0.1:%d, mode: reverse } ]
          routes: [ { name: all, cluster: c } ]
          clusters: [ { name: c, endpoints: [ "%s" ] } ]
          """.formatted(port, origin.address()));
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Process process = new ProcessBuilder(List.of("/usr/bin/systemd-socket-activate", "-l", "127.0.0.1:" + port,
              java, "-cp", System.getProperty("java.class.path"), "io.gatehouse.cli.Main", "run", "-c", config.toString()))
          .redirectErrorStream(true).redirectOutput(dir.resolve("out.log").toFile()).start();
      try {
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(dir.resolve("out.log")).contains("Listening on"));
        try (RawHttpClient early = RawHttpClient.connect("127.0.0.1", port, Duration.ofSeconds(30))) {
          early.send("GET /early HTTP/1.1\r\nHost: a\r\n\r\n");
          assertThat(early.readResponse().status()).as(Files.readString(dir.resolve("out.log"))).isEqualTo(200);
        }
        assertThat(Files.readString(dir.resolve("out.log"))).contains("(socket inherited)");
      } finally {
        process.destroy();
        process.waitFor(20, TimeUnit.SECONDS);
        process.destroyForcibly();
      }
    }
  }
}
