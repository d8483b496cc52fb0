package io.gatehouse.upstream;

import static io.gatehouse.upstream.Fixtures.addr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.gatehouse.config.OutlierConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EndpointStateTest {
  private static final long MS = 1_000_000L;
  private static final long SEC = 1_000 * MS;
  private final Fixtures.FakeClock clock = new Fixtures.FakeClock();

  private static List<EndpointState> members(int n, OutlierConfig cfg) {
    EndpointRegistry r = new EndpointRegistry();
    List<EndpointState> states = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      states.add(r.stateFor(addr(i)));
    }
    OutlierDetector d = new OutlierDetector(cfg, states);
    states.forEach(s -> s.attach(d));
    return states;
  }

  private static void fail(EndpointState s, int times, long now) {
    for (int i = 0; i < times; i++) {
      s.requestStarted();
      s.requestFinished(MS, true, now);
    }
  }

  private static void succeed(EndpointState s, long now) {
    s.requestStarted();
    s.requestFinished(MS, false, now);
  }

  @Test
  void in_flight_counts_started_minus_finished() {
    EndpointState s = new EndpointRegistry().stateFor(addr(1));
    s.requestStarted();
    s.requestStarted();
    s.requestFinished(MS, false, 0);
    assertThat(s.inFlight()).isEqualTo(1);
    assertThat(s.totalRequests()).isEqualTo(1);
  }

  @Test
  void consecutive_failures_eject_and_a_success_resets_the_count() {
    EndpointState s = members(10, new OutlierConfig(3, Duration.ofSeconds(30), 50)).get(0);
    long now = clock.now();
    fail(s, 2, now);
    succeed(s, now);
    fail(s, 2, now);
    assertThat(s.consecutiveFailures()).isEqualTo(2);
    assertThat(s.isAvailable(now)).isTrue();
    fail(s, 1, now);
    assertThat(s.isEjected(now)).isTrue();
    assertThat(s.isAvailable(now)).isFalse();
    assertThat(s.isEjected(now + 30 * SEC - 1)).isTrue();
    assertThat(s.isEjected(now + 30 * SEC)).isFalse();
  }

  @Test
  void ejection_back_off_doubles_and_caps_at_ten_times() {
    EndpointState s = members(10, new OutlierConfig(1, Duration.ofSeconds(1), 50)).get(0);
    long now = clock.now();
    List<Long> lengths = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      fail(s, 1, now);
      long start = now;
      while (s.isEjected(now)) {
        now += 500 * MS;
      }
      lengths.add((now - start) / SEC);
    }
    assertThat(lengths).containsExactly(1L, 2L, 4L, 8L, 10L, 10L);
    assertThat(s.ejections()).isEqualTo(6);
  }

  @Test
  void ejections_are_forgiven_after_behaving_for_the_longest_back_off() {
    EndpointState s = members(10, new OutlierConfig(1, Duration.ofSeconds(1), 50)).get(0);
    long now = clock.now();
    fail(s, 1, now);
    fail(s, 1, now + 2 * SEC); // second ejection, until +4s
    assertThat(s.ejections()).isEqualTo(2);
    succeed(s, now + 5 * SEC);
    assertThat(s.ejections()).isEqualTo(2);
    succeed(s, now + 14 * SEC);
    assertThat(s.ejections()).isZero();
  }

  @Test
  void max_ejection_percent_caps_how_many_are_out_at_once() {
    List<EndpointState> states = members(10, new OutlierConfig(1, Duration.ofSeconds(30), 20));
    long now = clock.now();
    states.forEach(s -> fail(s, 1, now));
    assertThat(states.stream().filter(s -> s.isEjected(now))).hasSize(2);
    // Once they are back, others may go.
    long later = now + 31 * SEC;
    states.forEach(s -> fail(s, 1, later));
    assertThat(states.stream().filter(s -> s.isEjected(later))).hasSize(2);
  }

  @Test
  void a_small_cluster_may_still_eject_one() {
    List<EndpointState> states = members(2, new OutlierConfig(1, Duration.ofSeconds(30), 10));
    long now = clock.now();
    states.forEach(s -> fail(s, 1, now));
    assertThat(states.stream().filter(s -> s.isEjected(now))).hasSize(1);
  }

  @Test
  void without_outlier_detection_nothing_is_ejected() {
    EndpointState s = new EndpointRegistry().stateFor(addr(1));
    fail(s, 100, 0);
    assertThat(s.isEjected(0)).isFalse();
    assertThat(s.recentErrorRate()).isGreaterThan(0.99);
  }

  @Test
  void latency_estimate_jumps_to_peaks_and_decays_when_idle() {
    EndpointState s = new EndpointRegistry().stateFor(addr(1));
    long now = clock.now();
    s.requestStarted();
    s.requestFinished(10 * MS, false, now);
    s.requestStarted();
    s.requestFinished(100 * MS, false, now + 1);
    assertThat(s.ewmaLatencyNanos()).isEqualTo(100.0 * MS);
    long tau = EndpointState.EWMA_TAU_NANOS;
    assertThat(s.latency().valueAt(now + 1 + tau)).isCloseTo(100.0 * MS / Math.E, within(1.0 * MS));
    // A fast sample long after blends in mostly.
    s.requestStarted();
    s.requestFinished(10 * MS, false, now + 1 + 5 * tau);
    assertThat(s.ewmaLatencyNanos()).isCloseTo(10.0 * MS, within(1.0 * MS));
  }

  @Test
  void a_fast_failure_does_not_make_an_endpoint_look_fast() {
    EndpointState s = new EndpointRegistry().stateFor(addr(1));
    s.requestStarted();
    s.requestFinished(100 * MS, false, 0);
    fail(s, 5, SEC);
    assertThat(s.ewmaLatencyNanos()).isEqualTo(100.0 * MS);
  }

  @Test
  void error_rate_follows_recent_requests() {
    EndpointState s = new EndpointRegistry().stateFor(addr(1));
    fail(s, 50, 0);
    assertThat(s.recentErrorRate()).isGreaterThan(0.9);
    for (int i = 0; i < 100; i++) {
      succeed(s, 0);
    }
    assertThat(s.recentErrorRate()).isLessThan(0.01);
  }

  @Test
  void slow_start_ramps_from_ten_percent_after_coming_up() {
    EndpointState s = new EndpointRegistry().stateFor(addr(1));
    long window = 10 * SEC;
    long now = clock.now();
    assertThat(s.slowStartFactor(now, window)).isEqualTo(1.0); // never came up: nothing to ramp
    s.setHealth(Health.UP, now);
    assertThat(s.slowStartFactor(now, window)).isCloseTo(0.1, within(1e-9));
    assertThat(s.slowStartFactor(now + 5 * SEC, window)).isCloseTo(0.55, within(1e-9));
    assertThat(s.slowStartFactor(now + 10 * SEC, window)).isEqualTo(1.0);
    s.setHealth(Health.UP, now + 20 * SEC); // already up: no new ramp
    assertThat(s.slowStartFactor(now + 20 * SEC, window)).isEqualTo(1.0);
    assertThat(s.slowStartFactor(now, 0)).isEqualTo(1.0);
  }

  @Test
  void slow_start_also_follows_the_end_of_an_ejection() {
    EndpointState s = members(10, new OutlierConfig(1, Duration.ofSeconds(30), 50)).get(0);
    long now = clock.now();
    s.setHealth(Health.UP, now - 3600 * SEC);
    fail(s, 1, now);
    long back = now + 30 * SEC;
    assertThat(s.slowStartFactor(back, 10 * SEC)).isCloseTo(0.1, within(1e-9));
    assertThat(s.slowStartFactor(back + 10 * SEC, 10 * SEC)).isEqualTo(1.0);
  }

  @Test
  @org.junit.jupiter.api.Timeout(30)
  void counters_stay_exact_under_concurrent_event_loops() throws Exception {
    EndpointState s = members(4, new OutlierConfig(3, Duration.ofSeconds(1), 100)).get(0);
    int threads = 8;
    int perThread = 50_000;
    var pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
    try {
      var done = new ArrayList<java.util.concurrent.Future<?>>();
      for (int t = 0; t < threads; t++) {
        done.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < perThread; i++) {
                    s.requestStarted();
                    s.requestFinished(MS, i % 10 == 0, i * MS);
                  }
                }));
      }
      for (var f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(s.inFlight()).isZero();
    assertThat(s.totalRequests()).isEqualTo((long) threads * perThread);
    assertThat(s.totalFailures()).isEqualTo((long) threads * perThread / 10);
  }
}
