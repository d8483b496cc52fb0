package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.FreePorts;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.Reply;
import io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A process at its descriptor limit ({@code ulimit -n}) can still be replaced, which is how an
 * operator gives it a higher one: the hand-off socket accepts the successor with a descriptor held
 * in reserve for that moment, the successor accepts the connections that waited in the backlog,
 * and the connections the old process served move to it. Meanwhile the old process says once that
 * it cannot accept, without a stack trace per failed {@code accept(2)} (Netty's default).
 */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
class DescriptorLimitTakeoverTest {
  /** Small enough that a test opens all of it, large enough for the JVM and the test's class path. */
  private static final int DESCRIPTORS = 320;
  /** Connections opened at most: more than the limit leaves room for. */
  private static final int CLIENTS = DESCRIPTORS;
  /** Connections opened after the first one left waiting: they wait in the backlog too. */
  private static final int MORE_WAITING = 10;

  @TempDir Path dir;
  private GatehouseProcesses processes;
  private FakeUpstream origin;
  private final List<RawHttpClient> clients = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    assumeThat(Epoll.isAvailable()).as("the hand-off needs the epoll transport").isTrue();
    assumeThat(Files.isExecutable(Path.of("/usr/bin/prlimit"))).as("prlimit (util-linux) sets the limit").isTrue();
    processes = new GatehouseProcesses(dir);
    origin = FakeUpstream.start("origin").respond(head -> Reply.ok());
  }

  @AfterEach
  void tearDown() throws IOException {
    for (RawHttpClient client : clients) {
      client.close();
    }
    if (processes != null) {
      processes.close();
    }
    if (origin != null) {
      origin.close();
    }
  }

  @Test
  void a_process_at_its_descriptor_limit_hands_over_and_loses_no_connection() throws Exception {
    int web = FreePorts.take();
    Path config = dir.resolve("g.yaml");
    Files.writeString(config, """
        admin: { bind: 127.0.0.1:%d }
        limits: { drainTimeout: 60s, closeSpread: 500ms }
        listeners: [ { name: web, bind: 127.0.0.1:%d, mode: reverse } ]
        routes: [ { name: all, cluster: app } ]
        clusters: [ { name: app, endpoints: [ "%s" ] } ]
        """.formatted(FreePorts.take(), web, origin.address()));
    Process old = processes.startWithDescriptorLimit("old", DESCRIPTORS, "run", "-c", config.toString());
    await().atMost(Duration.ofSeconds(30)).until(() -> processes.log("old").contains("Gatehouse started"));
    // Said right after the start line (GatehouseServer), which the wait above may see alone.
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(processes.log("old"))
        .as("the limit is far below the default limits.maxConnections")
        .contains("the descriptor limit (" + DESCRIPTORS + ", ulimit -n / LimitNOFILE) is below what limits.maxConnections"));

    // One request at a time (one upstream connection serves them all) until the process cannot
    // accept any more: that connection's request waits in the backlog, and so do a few more.
    List<RawHttpClient> served = new ArrayList<>();
    List<RawHttpClient> waiting = new ArrayList<>();
    for (int i = 0; i < CLIENTS && waiting.size() < 1 + MORE_WAITING; i++) {
      RawHttpClient client = RawHttpClient.connect(web);
      clients.add(client);
      client.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n");
      if (!waiting.isEmpty()) {
        waiting.add(client);
        continue;
      }
      try {
        assertKeptAlive(client.timeout(Duration.ofMillis(1500)).readResponse());
        served.add(client);
      } catch (SocketTimeoutException e) {
        waiting.add(client);
      }
    }
    assertThat(waiting).as("the limit was reached").isNotEmpty();
    assertThat(served).as("connections served before the limit").hasSizeGreaterThan(10);
    await().atMost(Duration.ofSeconds(5)).until(() -> processes.log("old").contains("listener web: cannot accept connections"));

    processes.start("new", "run", "-c", config.toString(), "--takeover");
    assertThat(old.waitFor(60, TimeUnit.SECONDS)).as("the old process handed over and left; %s", processes.log("old"))
        .isTrue();
    assertThat(old.exitValue()).isZero();
    for (RawHttpClient client : waiting) {
      assertKeptAlive(client.timeout(Duration.ofSeconds(20)).readResponse()); // accepted by the successor
    }
    for (RawHttpClient client : served) {
      assertKeptAlive(client.timeout(Duration.ofSeconds(10))
          .send("GET /after HTTP/1.1\r\nHost: a\r\n\r\n").readResponse()); // moved to the successor
    }
    String oldLog = processes.log("old");
    assertThat(oldLog).contains("the hand-off socket: out of file descriptors")
        .contains("hand-off: " + served.size() + " keep-alive connections moved to the successor");
    assertThat(oldLog).as("one line per socket every 10 s, no stack trace per failed accept")
        .doesNotContain("exceptionCaught()").doesNotContain("\tat ");
    assertThat(oldLog.split("listener web: cannot accept connections", -1)).hasSizeLessThanOrEqualTo(3);
  }

  private static void assertKeptAlive(RawResponse response) {
    assertThat(response.status()).isEqualTo(200);
    assertThat(response.header("Connection")).as("no close announced").isNull();
  }
}
