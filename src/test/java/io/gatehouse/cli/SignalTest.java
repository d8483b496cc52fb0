package io.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FreePorts;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signals to a real {@code gatehouse run} process.
 *
 * <p>SIGHUP to {@code gatehouse run} without {@code -c}: the embedded default has nothing to re-read,
 * so the process logs that and keeps serving (the JVM's default action would exit 129). The
 * embedded default itself is under test, so it binds its fixed ports 3128 and 9901 (no option moves
 * them); another suite on this machine may hold them for a while (another checkout's run of this
 * test, say), so the test waits for them and starts again when it loses the race for them (see
 * {@link #startEmbeddedDefault}). Other tests here use port 0 or a config file with free ports.
 */
@Timeout(120)
class SignalTest {
  /** How long the embedded default's test waits for its fixed ports. */
  private static final Duration PORT_WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  @Test
  void sighupWithoutAConfigFileIsLoggedAndTheProcessKeepsRunning() throws Exception {
    Path out = dir.resolve("out.log");
    Process process = startEmbeddedDefault(out);
    try {
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

  @Test
  void sigusr1ReopensTheAccessLogAfterARename() throws Exception {
    int port = FreePorts.take();
    Path log = dir.resolve("access.log");
    Path rotated = dir.resolve("access.log.1");
    Path config = dir.resolve("g.yaml");
    Files.writeString(config, """
        admin: { bind: 127.0.0.1:0 }
        accessLog: { path: access.log }
        listeners: [ { name: web, bind: 127.0.0.1:%d, mode: reverse } ]
        """.formatted(port));
    Path out = dir.resolve("out.log");
    Process process = gatehouse(List.of(), out, "run", "-c", config.toString());
    try {
      await().atMost(Duration.ofSeconds(20)).until(() -> Files.readString(out).contains("Gatehouse started"));
      get(port, "/before");
      await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(log) && Files.readString(log).contains("/before"));
      Files.move(log, rotated);
      signal("USR1", process);
      await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(log));
      get(port, "/after");
      await().atMost(Duration.ofSeconds(5)).until(() -> Files.readString(log).contains("/after"));
      assertThat(Files.readString(rotated)).contains("/before").doesNotContain("/after");
      assertThat(process.isAlive()).as(Files.readString(out)).isTrue();
    } finally {
      process.destroyForcibly();
    }
  }

  /**
   * A script that reloads as soon as the port accepts: the SIGHUP may come before the start has
   * finished. It reloads (once the server is up) and the process lives on; the JVM's default action
   * would have killed it (exit 129), which it did when the handlers came after the listeners.
   */
  @Test
  void aSighupAsSoonAsThePortAcceptsReloadsAndTheProcessLivesOn() throws Exception {
    int port = FreePorts.take();
    Path config = reverseListenerOn(port);
    Path out = dir.resolve("out.log");
    Process process = gatehouse(List.of(), out, "run", "-c", config.toString());
    try {
      await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(1)).until(() -> accepts(port));
      signal("HUP", process);
      await().atMost(Duration.ofSeconds(20))
          .until(() -> !process.isAlive() || Files.readString(out).contains("config generation 2 in use"));
      assertThat(process.isAlive()).as(Files.readString(out)).isTrue();
      get(port, "/after-the-reload");
    } finally {
      process.destroyForcibly();
    }
  }

  /**
   * Under {@code nohup} SIGHUP comes ignored, and the JVM keeps it so: no handler can be installed
   * and a SIGHUP would silently not reload. The start says so, with what to use instead.
   */
  @Test
  void startedUnderNohupItSaysSighupWillNotReload() throws Exception {
    int port = FreePorts.take();
    Path config = reverseListenerOn(port);
    Path out = dir.resolve("out.log");
    Process process = gatehouse(List.of("nohup"), out, "run", "-c", config.toString());
    try {
      await().atMost(Duration.ofSeconds(20)).until(() -> Files.readString(out).contains("Gatehouse started"));
      assertThat(Files.readString(out)).contains("SIGHUP is ignored in this process")
          .contains("use `gatehouse reload` or POST /api/v1/reload").doesNotContain("SIGUSR1 is ignored");
      signal("HUP", process);
      get(port, "/still-serving");
      assertThat(process.isAlive()).as(Files.readString(out)).isTrue();
    } finally {
      process.destroyForcibly();
    }
  }

  /**
   * Starts {@code gatehouse run} without {@code -c} once 3128 and 9901 are free, again when it lost
   * them to someone else between the check and its bind ({@code cannot start}, address in use), for
   * at most {@link #PORT_WAIT}; returns the started process. Skipped, saying so, only when the
   * ports stay taken that long (a proxy of the machine's own on 3128, say).
   */
  private static Process startEmbeddedDefault(Path out) throws Exception {
    long deadline = System.nanoTime() + PORT_WAIT.toNanos();
    while (true) {
      try {
        await().atMost(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())))
            .pollInterval(Duration.ofMillis(200))
            .until(() -> free(3128) && free(9901));
      } catch (ConditionTimeoutException e) {
        Assumptions.abort("ports 3128 and 9901, which the embedded default binds, stayed taken for " + PORT_WAIT);
      }
      Process process = gatehouse(List.of(), out, "run");
      try {
        await().atMost(Duration.ofSeconds(20))
            .until(() -> !process.isAlive() || Files.readString(out).contains("Gatehouse started"));
      } catch (ConditionTimeoutException e) {
        process.destroyForcibly();
        throw e;
      }
      if (process.isAlive()) {
        return process;
      }
      String output = Files.readString(out);
      boolean lostThePorts = output.contains("cannot start") && output.contains("Address already in use");
      assertThat(lostThePorts && System.nanoTime() < deadline).as(output).isTrue();
    }
  }

  /**
   * {@code gatehouse ARGS} as a process of this JVM's java and class path, started through
   * {@code wrapper} (e.g. {@code nohup}; empty for none), its output in {@code out}.
   */
  private static Process gatehouse(List<String> wrapper, Path out, String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(wrapper);
    command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "io.gatehouse.cli.Main"));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
  }

  private static void get(int port, String path) throws Exception {
    try (io.gatehouse.testing.RawHttpClient client = io.gatehouse.testing.RawHttpClient.connect(port)) {
      assertThat(client.send("GET " + path + " HTTP/1.1\r\nHost: h\r\n\r\n").readResponse().status()).isEqualTo(404);
    }
  }

  static void signal(String name, Process process) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).isZero();
  }

  /** A config file with one reverse listener on {@code port} (and an admin API on a port of its own). */
  private Path reverseListenerOn(int port) throws java.io.IOException {
    Path config = dir.resolve("g.yaml");
    Files.writeString(config, """
        admin: { bind: 127.0.0.1:0 }
        listeners: [ { name: web, bind: 127.0.0.1:%d, mode: reverse } ]
        """.formatted(port));
    return config;
  }

  private static boolean accepts(int port) {
    try (java.net.Socket socket = new java.net.Socket()) {
      socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 1000);
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private static boolean free(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, java.net.InetAddress.getLoopbackAddress())) {
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
