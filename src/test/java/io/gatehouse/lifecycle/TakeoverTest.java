package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.FreePorts;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.Reply;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code gatehouse run --takeover} between real processes: the successor takes the listening
 * sockets over {@code handoff.socket}, the old process drains and exits 0, and no connection is
 * refused at any moment, also when the successor dies holding the sockets.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TakeoverTest {
  /** Far beyond what the socket buffers on the way hold. */
  private static final int DOWNLOAD_BYTES = 48 * 1024 * 1024;
  @TempDir Path dir;
  private FakeUpstream origin;
  private GatehouseProcesses processes;
  private Path config;
  private int port;
  private int adminPort;

  @BeforeEach
  void setUp() throws Exception {
    assumeThat(Epoll.isAvailable()).as("the hand-off needs the epoll transport").isTrue();
    processes = new GatehouseProcesses(dir);
    origin = FakeUpstream.start("origin");
    origin.respond(head -> head.uri().equals("/download") ? Reply.stream(DOWNLOAD_BYTES) : Reply.ok());
    port = FreePorts.take();
    adminPort = FreePorts.take();
    config = dir.resolve("g.yaml");
    Files.writeString(config, """
        admin: { bind: 127.0.0.1:%d }
        limits: { drainTimeout: 20s, closeSpread: 500ms }
        listeners: [ { name: web, bind: 127.0.0.1:%d, mode: reverse } ]
        routes: [ { name: all, cluster: c } ]
        clusters: [ { name: c, endpoints: [ "%s" ] } ]
        """.formatted(adminPort, port, origin.address()));
  }

  @AfterEach
  void tearDown() {
    processes.close();
    if (origin != null) {
      origin.close();
    }
  }

  @Test
  void takeover_under_load_refuses_nothing_finishes_the_old_process_download_and_it_exits_zero()
      throws Exception {
    Process old = gatehouse("old", "run", "-c", config.toString());
    awaitServing(old, "old");
    try (Load load = new Load(port); RawHttpClient download = RawHttpClient.connect(port)) {
      // A long download the client does not read yet: backpressure keeps it in flight on the old
      // process until the test reads it, after the old one started draining.
      download.timeout(Duration.ofSeconds(30));
      download.send("GET /download HTTP/1.1\r\nHost: a\r\n\r\n");
      await().atMost(Duration.ofSeconds(5)).until(() -> origin.requests().stream().anyMatch(r -> r.uri().equals("/download")));

      Process successor = gatehouse("new", "run", "-c", config.toString(), "--takeover");
      await().atMost(Duration.ofSeconds(60)).until(() -> log("old").contains("draining"));
      RawResponse response = download.readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.body()).hasSize(DOWNLOAD_BYTES);
      assertThat(response.header("Connection")).isNull();
      // The connection is not closed after it: it moves to the successor, which answers the next request.
      assertThat(old.waitFor(60, TimeUnit.SECONDS)).as(log("old")).isTrue();
      assertThat(download.send("GET /after HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);

      assertThat(old.exitValue()).as(log("old")).isZero();
      int afterOldExited = load.ok();
      await().atMost(Duration.ofSeconds(20)).until(() -> load.ok() > afterOldExited + 20);
      load.stop();
      assertThat(load.failures()).as("connections refused or failed during the hand-off; " + log("new"))
          .isEmpty();
      assertThat(successor.isAlive()).isTrue();
      assertThat(Files.exists(handoffSocket())).as("the successor offers its sockets in turn").isTrue();
    }
  }

  @Test
  void the_successor_takes_over_only_after_its_first_health_check_round() throws Exception {
    // Health answers take 3 s: a successor that took the sockets at once would still call the
    // endpoint "starting" when the old process starts draining.
    origin.respond(head -> head.uri().equals("/healthz")
        ? Reply.ok().firstByteDelay(Duration.ofSeconds(3)) : Reply.ok());
    Files.writeString(config, Files.readString(config).replace("endpoints: [ \"" + origin.address() + "\" ]",
        "endpoints: [ \"" + origin.address() + "\" ], healthCheck: { path: /healthz, interval: 5s, timeout: 4s }"));
    Process old = gatehouse("old", "run", "-c", config.toString());
    awaitServing(old, "old");
    gatehouse("new", "run", "-c", config.toString(), "--takeover");
    await().atMost(Duration.ofSeconds(60)).until(() -> log("old").contains("draining"));
    java.net.http.HttpResponse<String> clusters = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + adminPort + "/api/v1/clusters"))
            .timeout(Duration.ofSeconds(10)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(clusters.body()).as(log("new")).contains("\"health\":\"up\"").doesNotContain("starting");
    assertThat(old.waitFor(60, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void a_successor_that_dies_holding_the_sockets_leaves_the_old_process_accepting() throws Exception {
    Process old = gatehouse("old", "run", "-c", config.toString());
    awaitServing(old, "old");
    try (Load load = new Load(port)) {
      Process crashing = gatehouse("crash", "-Dgatehouse.test.haltAfterHandoffReceive=true", "run", "-c",
          config.toString(), "--takeover");
      assertThat(crashing.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(crashing.exitValue()).as(log("crash")).isEqualTo(137);
      assertThat(log("crash")).contains("received 2 listening sockets");

      int afterCrash = load.ok();
      await().atMost(Duration.ofSeconds(20)).until(() -> load.ok() > afterCrash + 20);
      load.stop();
      assertThat(load.failures()).as("no window without an acceptor").isEmpty();
      assertThat(old.isAlive()).as(log("old")).isTrue();
    }
    // The failed attempt is over: a real successor can take over now.
    gatehouse("new", "run", "-c", config.toString(), "--takeover");
    assertThat(old.waitFor(60, TimeUnit.SECONDS)).as(log("old")).isTrue();
    assertThat(old.exitValue()).isZero();
    assertThat(serves(port)).isTrue();
  }

  @Test
  void takeover_with_no_running_instance_starts_normally() throws Exception {
    Process first = gatehouse("new", "run", "-c", config.toString(), "--takeover");
    awaitServing(first, "new");
    assertThat(log("new")).contains("no instance runs at");
    assertThat(Files.exists(handoffSocket())).isTrue();
  }

  @Test
  void a_handoff_path_that_is_not_a_socket_is_a_clear_error() throws Exception {
    Files.writeString(handoffSocket(), "not a socket");
    Process p = gatehouse("bad", "run", "-c", config.toString());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(1);
    assertThat(log("bad")).contains("handoff.socket " + handoffSocket() + ": exists and is not a socket");
    assertThat(Files.readString(handoffSocket())).as("the file is left alone").isEqualTo("not a socket");
  }

  @Test
  void a_second_takeover_while_one_is_in_progress_is_refused_and_an_abandoned_one_changes_nothing()
      throws Exception {
    Process old = gatehouse("old", "run", "-c", config.toString());
    awaitServing(old, "old");
    MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    try {
      HandoffClient first = HandoffClient.takeOver(handoffSocket(), group, Duration.ofSeconds(10));
      assertThat(first).isNotNull();
      assertThatThrownBy(() -> HandoffClient.takeOver(handoffSocket(), group, Duration.ofSeconds(10)))
          .hasMessageContaining("refused").hasMessageContaining("another takeover is in progress");
      first.close(); // goes away without confirming
      await().atMost(Duration.ofSeconds(10)).until(() -> log("old").contains("went away before it accepted"));
      assertThat(serves(port)).isTrue();
      assertThat(old.isAlive()).isTrue();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  @Test
  void a_successor_of_another_user_is_refused_by_its_peer_credentials() throws Exception {
    assumeThat(HandoffSocket.ownUid()).as("needs root to connect as another user").isZero();
    assumeThat(Path.of("/usr/bin/setpriv")).exists();
    assumeThat(Path.of("/usr/bin/python3")).exists();
    Process old = gatehouse("old", "run", "-c", config.toString());
    awaitServing(old, "old");
    // Open the file and its directory to everyone: only the peer-credential check is left to refuse.
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(handoffSocket(), PosixFilePermissions.fromString("rw-rw-rw-"));
    Process other = new ProcessBuilder("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
        "/usr/bin/python3", "-c", """
            import socket, sys
            s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
            print(s.makefile().readline().strip())
            """, handoffSocket().toString())
        .redirectErrorStream(true).start();
    processes.add(other);
    assertThat(other.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String answer = new String(other.getInputStream().readAllBytes()).trim();
    assertThat(answer).startsWith("REFUSED peer pid").contains("runs as uid 65534");
    assertThat(old.isAlive()).isTrue();
    assertThat(serves(port)).isTrue();
  }

  private Path handoffSocket() {
    return Path.of(config.toAbsolutePath() + ".handoff.sock");
  }

  private Process gatehouse(String name, String... args) throws IOException {
    return processes.start(name, args);
  }

  /**
   * Until the first process serves on the port; a failure says why, with its log (a CI run once saw
   * it not serve within 30 s and nothing else).
   */
  private void awaitServing(Process first, String name) {
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(serves(port))
        .as("%s; log:%n%s", first.isAlive() ? "alive" : "exited with " + first.exitValue(), log(name)).isTrue());
  }

  private String log(String name) {
    return processes.log(name);
  }

  private static boolean serves(int port) {
    try (RawHttpClient client = RawHttpClient.connect(port)) {
      client.send("GET /probe HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      return client.readResponse().status() == 200;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * A bounded steady load: one request per new connection, back to back, on two threads, each
   * counted as ok or failed (refused, reset, no answer, not 200).
   */
  private static final class Load implements AutoCloseable {
    private static final int MAX_REQUESTS = 20_000;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger ok = new AtomicInteger();
    private final List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    private final List<CompletableFuture<Void>> workers = new ArrayList<>();

    Load(int port) {
      for (int t = 0; t < 2; t++) {
        workers.add(CompletableFuture.runAsync(() -> {
          for (int i = 0; i < MAX_REQUESTS / 2 && running.get(); i++) {
            try (RawHttpClient client = RawHttpClient.connect("127.0.0.1", port, Duration.ofSeconds(10))) {
              client.send("GET /load HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
              int status = client.readResponse().status();
              if (status == 200) {
                ok.incrementAndGet();
              } else {
                failures.add("status " + status);
              }
            } catch (IOException e) {
              failures.add(e.toString());
            }
          }
        }));
      }
    }

    int ok() {
      return ok.get();
    }

    List<String> failures() {
      return List.copyOf(failures);
    }

    void stop() throws Exception {
      running.set(false);
      for (CompletableFuture<Void> w : workers) {
        w.get(30, TimeUnit.SECONDS);
      }
    }

    @Override
    public void close() throws Exception {
      stop();
    }
  }
}
