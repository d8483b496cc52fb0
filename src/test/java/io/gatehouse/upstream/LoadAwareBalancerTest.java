package io.gatehouse.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.config.BalancerKind;
import java.time.Duration;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Replays a steady open-loop load against two fast endpoints and one ten times slower, on a fake
 * clock, and measures the slow endpoint's share of requests.
 */
class LoadAwareBalancerTest {
  private static final long FAST = Duration.ofMillis(10).toNanos();
  private static final long SLOW = Duration.ofMillis(100).toNanos();
  private static final long GAP = Duration.ofMillis(2).toNanos();

  private record Completion(long at, Endpoint e, long latency) {}

  private static double slowShare(BalancerKind kind) {
    List<Endpoint> eps = Fixtures.endpoints(0, 1, 1, 1);
    Endpoint slow = eps.get(2);
    LoadBalancer lb = LoadBalancer.of(kind, eps, Duration.ZERO, new Random(7));
    PriorityQueue<Completion> pending = new PriorityQueue<>((a, b) -> Long.compare(a.at, b.at));
    int toSlow = 0;
    int requests = 10_000;
    long now = 0;
    for (int i = 0; i < requests; i++) {
      now += GAP;
      while (!pending.isEmpty() && pending.peek().at <= now) {
        Completion c = pending.poll();
        c.e.state().requestFinished(c.latency, false, c.at);
      }
      Endpoint e = lb.pick(PickContext.of(null, now));
      e.state().requestStarted();
      long latency = e == slow ? SLOW : FAST;
      pending.add(new Completion(now + latency, e, latency));
      if (e == slow) {
        toSlow++;
      }
    }
    return (double) toSlow / requests;
  }

  @Test
  void round_robin_sends_the_slow_endpoint_a_third() {
    assertThat(slowShare(BalancerKind.ROUND_ROBIN)).isCloseTo(1.0 / 3, org.assertj.core.api.Assertions.within(0.01));
  }

  @Test
  void ewma_sends_the_slow_endpoint_far_less_than_round_robin() {
    assertThat(slowShare(BalancerKind.EWMA)).isLessThan(slowShare(BalancerKind.ROUND_ROBIN) / 3);
  }

  @Test
  void least_request_sends_the_slow_endpoint_less_than_round_robin() {
    assertThat(slowShare(BalancerKind.LEAST_REQUEST)).isLessThan(slowShare(BalancerKind.ROUND_ROBIN) / 2);
  }

  @Test
  void p2c_sends_the_slow_endpoint_less_than_round_robin() {
    assertThat(slowShare(BalancerKind.P2C)).isLessThan(slowShare(BalancerKind.ROUND_ROBIN) / 1.5);
  }

  @Test
  void least_request_picks_the_idlest_and_breaks_ties_at_random() {
    List<Endpoint> eps = Fixtures.endpoints(0, 1, 1, 1);
    eps.get(0).state().requestStarted();
    LoadBalancer lb = LoadBalancer.leastRequest(eps, new Random(1));
    var counts = Fixtures.tally(lb, 0, 1_000);
    assertThat(counts).doesNotContainKey(eps.get(0).address());
    assertThat(counts.get(eps.get(1).address())).isBetween(400, 600);
  }

  @Test
  void ewma_gives_a_fresh_endpoint_a_neutral_score() {
    List<Endpoint> eps = Fixtures.endpoints(0, 1, 1);
    eps.get(0).state().requestStarted();
    eps.get(0).state().requestFinished(FAST, false, 0);
    LoadBalancer lb = LoadBalancer.ewma(eps, new Random(1));
    // No sample on the second endpoint: it borrows the first one's latency, so they tie.
    var counts = Fixtures.tally(lb, 0, 1_000);
    assertThat(counts.get(eps.get(1).address())).isBetween(400, 600);
  }
}
