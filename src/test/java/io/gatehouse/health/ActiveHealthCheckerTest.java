package io.gatehouse.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.config.BalancerKind;
import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.EndpointConfig;
import io.gatehouse.config.HashOnConfig;
import io.gatehouse.config.HealthCheckConfig;
import io.gatehouse.config.HostPort;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RecordedRequest;
import io.gatehouse.testing.Reply;
import io.gatehouse.upstream.Cluster;
import io.gatehouse.upstream.EndpointRegistry;
import io.gatehouse.upstream.Health;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.EventExecutor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Probes against real {@link FakeUpstream}s on event loops of their own; no proxy involved. */
@Timeout(30)
class ActiveHealthCheckerTest {
  private static final Duration INTERVAL = Duration.ofMillis(100);

  private MultiThreadIoEventLoopGroup group;
  private ActiveHealthChecker checker;
  private final EndpointRegistry registry = new EndpointRegistry();
  private final List<FakeUpstream> upstreams = new ArrayList<>();

  @BeforeEach
  void setUp() {
    group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    List<EventLoop> loops = new ArrayList<>();
    for (EventExecutor e : group) {
      loops.add((EventLoop) e);
    }
    checker = new ActiveHealthChecker(loops, new Bootstrap().channel(NioSocketChannel.class), System::nanoTime);
  }

  @AfterEach
  void tearDown() {
    checker.close();
    upstreams.forEach(FakeUpstream::close);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  private FakeUpstream upstream(String name) {
    FakeUpstream u = FakeUpstream.start(name);
    upstreams.add(u);
    return u;
  }

  private static HealthCheckConfig http(String path, int rise, int fall) {
    return new HealthCheckConfig(path, INTERVAL, Duration.ofMillis(80), rise, fall, 200, 299, "health.internal");
  }

  private static HealthCheckConfig tcp(int rise, int fall) {
    return new HealthCheckConfig(null, INTERVAL, Duration.ofMillis(80), rise, fall, 200, 399, null);
  }

  private Cluster cluster(String name, HealthCheckConfig hc, FakeUpstream... members) {
    List<EndpointConfig> eps = new ArrayList<>();
    for (FakeUpstream u : members) {
      eps.add(new EndpointConfig(hostPort(u), 1));
    }
    ClusterConfig cfg = new ClusterConfig(name, BalancerKind.ROUND_ROBIN, HashOnConfig.CLIENT_IP, eps, hc, null,
        null, null, null, null, null);
    return Cluster.create(cfg, registry, System::nanoTime);
  }

  private static HostPort hostPort(FakeUpstream u) {
    return new HostPort("127.0.0.1", u.port());
  }

  private Health health(FakeUpstream u) {
    return registry.stateFor(hostPort(u)).health();
  }

  /**
   * Upper bound for a flip after {@code n} probes: n intervals (+10% jitter), one probe timeout,
   * and slack for a busy machine (a test never asserts a tight timing).
   */
  private static Duration within(int n) {
    return Duration.ofMillis((long) (n * INTERVAL.toMillis() * 1.1) + 80 + 1500);
  }

  @Test
  void httpCheckFlipsDownAfterFallAndUpAfterRise() {
    FakeUpstream a = upstream("a");
    AtomicBoolean healthy = new AtomicBoolean(true);
    a.respond(req -> req.uri().equals("/healthz") && !healthy.get() ? Reply.status(503) : Reply.ok());
    checker.update(List.of(cluster("c", http("/healthz", 2, 3), a)));

    await().atMost(within(1)).until(() -> health(a) == Health.UP); // STARTING: the first probe decides
    RecordedRequest probe = a.lastRequest();
    assertThat(probe.method()).isEqualTo("GET");
    assertThat(probe.uri()).isEqualTo("/healthz");
    assertThat(probe.header("Host")).isEqualTo("health.internal");

    healthy.set(false);
    long t0 = System.nanoTime();
    await().atMost(within(3)).until(() -> health(a) == Health.DOWN);
    // fall = 3: not after one or two bad probes (a probe in progress at the switch may be the first).
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(INTERVAL.multipliedBy(3).dividedBy(2));

    healthy.set(true);
    await().atMost(within(2)).until(() -> health(a) == Health.UP);
  }

  @Test
  void statusOutsideTheExpectedRangeIsAFailure() {
    FakeUpstream a = upstream("a");
    a.respond(req -> Reply.status(302));
    checker.update(List.of(cluster("c", http("/", 1, 1), a)));
    await().atMost(within(1)).until(() -> health(a) == Health.DOWN);
  }

  @Test
  void tcpCheckNoticesADeadEndpointAndAStartingOneIsDecidedByItsFirstProbe() {
    FakeUpstream a = upstream("a");
    FakeUpstream b = upstream("b");
    checker.update(List.of(cluster("c", tcp(2, 2), a, b)));
    await().atMost(within(1)).until(() -> health(a) == Health.UP && health(b) == Health.UP);
    assertThat(a.requests()).isEmpty(); // a TCP check sends nothing

    b.kill();
    await().atMost(within(2)).until(() -> health(b) == Health.DOWN);
    assertThat(health(a)).isEqualTo(Health.UP);
  }

  @Test
  void anEndpointThatTimesOutIsDown() {
    FakeUpstream a = upstream("a");
    a.respond(req -> Reply.hang());
    checker.update(List.of(cluster("c", http("/healthz", 1, 1), a)));
    await().atMost(within(1)).until(() -> health(a) == Health.DOWN);
  }

  @Test
  void reloadKeepsStateAndProbesOnlyWhatIsConfigured() {
    FakeUpstream a = upstream("a");
    FakeUpstream b = upstream("b");
    a.respond(req -> Reply.status(500));
    checker.update(List.of(cluster("c", http("/healthz", 1, 1), a)));
    await().atMost(within(1)).until(() -> health(a) == Health.DOWN);

    // New generation: same address kept (and still down), b added.
    checker.update(List.of(cluster("c", http("/healthz", 5, 1), a, b)));
    assertThat(checker.probedAddresses()).containsExactlyInAnyOrder(hostPort(a), hostPort(b));
    assertThat(health(a)).isEqualTo(Health.DOWN);
    await().atMost(within(1)).until(() -> health(b) == Health.UP);

    // a answers again, but rise is now 5: the new settings apply to the kept probe.
    a.respond(req -> Reply.ok());
    long t0 = System.nanoTime();
    await().atMost(within(5)).until(() -> health(a) == Health.UP);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(INTERVAL.multipliedBy(3));

    // Checks removed: nobody would ever mark b up again, so it is up; probes stop.
    b.respond(req -> Reply.status(500));
    checker.update(List.of(cluster("c", null, a, b)));
    assertThat(checker.probedAddresses()).isEmpty();
    assertThat(health(b)).isEqualTo(Health.UP);
    // A probe already sent before the update still lands (within its 80 ms timeout): counted from
    // after that, as CI once saw it arrive just after the count was taken.
    await().pollDelay(Duration.ofMillis(150)).atMost(Duration.ofSeconds(1)).until(() -> true);
    int before = b.requests().size();
    await().pollDelay(Duration.ofMillis(300)).atMost(Duration.ofSeconds(1)).until(() -> true);
    assertThat(b.requests()).hasSize(before);
  }
}
