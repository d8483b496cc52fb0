package io.gatehouse.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.gatehouse.config.BalancerKind;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** An endpoint coming back UP gets a growing share over the window, for every balancer that ramps. */
class SlowStartTest {
  private static final Duration WINDOW = Duration.ofSeconds(10);

  private static double shareOfNewcomer(LoadBalancer lb, Endpoint newcomer, long now) {
    int hits = 0;
    for (int i = 0; i < 20_000; i++) {
      if (lb.pick(PickContext.of(null, now)) == newcomer) {
        hits++;
      }
    }
    return hits / 20_000.0;
  }

  @ParameterizedTest
  @EnumSource(value = BalancerKind.class, names = {"ROUND_ROBIN", "WEIGHTED", "LEAST_REQUEST", "P2C", "EWMA"})
  void share_ramps_linearly_over_the_window(BalancerKind kind) {
    long t0 = 0;
    List<Endpoint> eps = Fixtures.endpoints(t0, 1, 1);
    Endpoint newcomer = eps.get(1);
    newcomer.state().setHealth(Health.DOWN, t0);
    newcomer.state().setHealth(Health.UP, t0);
    LoadBalancer lb = LoadBalancer.of(kind, eps, WINDOW, new Random(5));

    // With nothing in flight, least-cost balancers give the whole pick to the cheaper endpoint, so
    // for them check the direction; weighted ones must match the ramp: w / (1 + w).
    double atStart = shareOfNewcomer(lb, newcomer, t0);
    double halfway = shareOfNewcomer(lb, newcomer, t0 + WINDOW.toNanos() / 2);
    double after = shareOfNewcomer(lb, newcomer, t0 + WINDOW.toNanos());
    if (kind == BalancerKind.ROUND_ROBIN || kind == BalancerKind.WEIGHTED) {
      assertThat(atStart).isCloseTo(0.1 / 1.1, within(0.01));
      assertThat(halfway).isCloseTo(0.55 / 1.55, within(0.01));
      assertThat(after).isCloseTo(0.5, within(0.01));
    } else {
      assertThat(atStart).isLessThan(0.05);
      assertThat(after).isGreaterThan(0.3);
    }
  }

  @org.junit.jupiter.api.Test
  void an_endpoint_enabled_again_by_an_operator_ramps_up_too() {
    long t0 = 0;
    List<Endpoint> eps = Fixtures.endpoints(t0, 1, 1);
    Endpoint returning = eps.get(1);
    LoadBalancer lb = LoadBalancer.of(BalancerKind.ROUND_ROBIN, eps, WINDOW, new Random(5));
    long t1 = t0 + 3 * WINDOW.toNanos();
    returning.state().setAdminState(AdminState.DRAINING, t1);
    assertThat(shareOfNewcomer(lb, returning, t1)).isZero();

    long t2 = t1 + WINDOW.toNanos();
    returning.state().setAdminState(AdminState.ACTIVE, t2);
    assertThat(shareOfNewcomer(lb, returning, t2)).isCloseTo(0.1 / 1.1, within(0.01));
    assertThat(shareOfNewcomer(lb, returning, t2 + WINDOW.toNanos())).isCloseTo(0.5, within(0.01));
  }
}
