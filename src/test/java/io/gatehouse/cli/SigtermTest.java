package io.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.Reply;
import java.io.File;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM on a real process: it stops accepting, the in-flight exchange completes, exit code 0.
 */
@Timeout(60)
class SigtermTest {
  @TempDir Path dir;

  @Test
  void sigtermLetsTheInFlightRequestFinishThenExitsZero() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("slow")) {
      origin.respond(head -> head.uri().equals("/slow") ? Reply.slow(Duration.ofMillis(1500)) : Reply.ok());
      int port;
      try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
        port = probe.getLocalPort();
      }
      Path config = dir.resolve("g.yaml");
      Files.writeString(config, """
          admin: { bind: 127.0.0.1:0 }
          limits: { drainTimeout: 10s }
          listeners: [ { name: web, bind: 127.0.0.1:%d, mode: reverse } ]
          routes: [ { name: all, cluster: c } ]
          clusters: [ { name: c, endpoints: [ "%s" ] } ]
          """.formatted(port, origin.address()));
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Process process = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
              "io.gatehouse.cli.Main", "run", "-c", config.toString()))
          .redirectErrorStream(true)
          .redirectOutput(dir.resolve("out.log").toFile())
          .start();
      try {
        await().atMost(Duration.ofSeconds(20)).until(() -> canConnect(port));
        try (RawHttpClient client = RawHttpClient.connect(port)) {
          client.timeout(Duration.ofSeconds(10));
          client.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
          await().atMost(Duration.ofSeconds(5)).until(() -> origin.connectionsAccepted() > 0);
          process.destroy(); // SIGTERM
          await().atMost(Duration.ofSeconds(5)).until(() -> !canConnect(port));
          RawResponse response = client.readResponse();
          assertThat(response.status()).isEqualTo(200);
          assertThat(response.header("connection")).isEqualToIgnoringCase("close");
        }
        assertThat(process.waitFor(15, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(Files.readString(dir.resolve("out.log"))).isZero();
      } finally {
        process.destroyForcibly();
      }
    }
  }

  private static boolean canConnect(int port) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return true;
    } catch (ConnectException e) {
      return false;
    } catch (IOException e) {
      return false;
    }
  }
}
