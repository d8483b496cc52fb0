package io.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGHUP to {@code gatehouse run} without {@code -c}: the embedded default has nothing to re-read,
 * so the process logs that and keeps serving (the JVM's default action would exit 129). The
 * embedded default binds its fixed ports 3128 and 9901; the test is skipped, saying so, when
 * something else holds them.
 */
@Timeout(60)
class SighupTest {
  @TempDir Path dir;

  @Test
  void sighupWithoutAConfigFileIsLoggedAndTheProcessKeepsRunning() throws Exception {
    Assumptions.assumeTrue(free(3128) && free(9901), "ports 3128 and 9901 are needed by the embedded default");
    Path out = dir.resolve("out.log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process process = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
            "io.gatehouse.cli.Main", "run"))
        .redirectErrorStream(true)
        .redirectOutput(out.toFile())
        .start();
    try {
      await().atMost(Duration.ofSeconds(20)).until(() -> Files.readString(out).contains("Gatehouse started"));
      signal("HUP", process);
      await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(out).contains("SIGHUP"));
      assertThat(process.isAlive()).as(Files.readString(out)).isTrue();
      process.destroy(); // SIGTERM: still the graceful stop
      assertThat(process.waitFor(15, TimeUnit.SECONDS)).isTrue();
      assertThat(process.exitValue()).as(Files.readString(out)).isZero();
    } finally {
      process.destroyForcibly();
    }
  }

  static void signal(String name, Process process) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).isZero();
  }

  private static boolean free(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
