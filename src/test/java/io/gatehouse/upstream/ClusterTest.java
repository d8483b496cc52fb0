package io.gatehouse.upstream;

import static io.gatehouse.upstream.Fixtures.addr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gatehouse.config.BalancerKind;
import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.OutlierConfig;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ClusterTest {
  private final Fixtures.FakeClock clock = new Fixtures.FakeClock();
  private final EndpointRegistry registry = new EndpointRegistry();

  @Test
  void compiles_endpoints_bound_to_shared_states() {
    Cluster c = Cluster.create(Fixtures.cluster(BalancerKind.WEIGHTED, null, 3, 1), registry, clock);
    assertThat(c.name()).isEqualTo("c");
    assertThat(c.endpoints()).extracting(Endpoint::address).containsExactly(addr(1), addr(2));
    assertThat(c.endpoints()).extracting(Endpoint::weight).containsExactly(3, 1);
    assertThat(c.endpoints().get(0).state()).isSameAs(registry.stateFor(addr(1)));
    assertThat(c.endpoint(addr(2))).isSameAs(c.endpoints().get(1));
    assertThat(c.endpoint(addr(9))).isNull();
  }

  @Test
  void without_health_checks_endpoints_are_up_at_once() {
    Cluster c = Cluster.create(Fixtures.cluster(BalancerKind.P2C, null, 1, 1), registry, clock);
    assertThat(c.endpoints()).allSatisfy(e -> assertThat(e.state().health()).isEqualTo(Health.UP));
    assertThat(c.availableCount()).isEqualTo(2);
  }

  @Test
  void with_health_checks_endpoints_start_starting_and_are_still_picked() {
    ClusterConfig cfg = Fixtures.withHealthCheck(Fixtures.cluster(BalancerKind.ROUND_ROBIN, null, 1));
    Cluster c = Cluster.create(cfg, registry, clock);
    assertThat(c.endpoints().get(0).state().health()).isEqualTo(Health.STARTING);
    assertThat(c.newBalancer().pick(PickContext.of(null, clock.now()))).isNotNull();
  }

  @Test
  void state_survives_a_reload_and_removed_addresses_are_forgotten() {
    Cluster first = Cluster.create(Fixtures.cluster(BalancerKind.ROUND_ROBIN, null, 1, 1), registry, clock);
    EndpointState s1 = first.endpoints().get(0).state();
    s1.setAdminState(AdminState.DRAINING);
    s1.requestStarted();

    Cluster second = Cluster.create(Fixtures.cluster(BalancerKind.EWMA, null, 1), registry, clock);
    registry.retainOnly(List.of(addr(1)));
    assertThat(second.endpoints().get(0).state()).isSameAs(s1);
    assertThat(s1.adminState()).isEqualTo(AdminState.DRAINING);
    assertThat(s1.inFlight()).isEqualTo(1);
    assertThat(registry.find(addr(2))).isNull();
    assertThat(registry.size()).isEqualTo(1);
  }

  @Test
  void outlier_policy_comes_from_the_cluster_and_caps_ejections() {
    OutlierConfig outlier = new OutlierConfig(2, Duration.ofSeconds(30), 50);
    Cluster c = Cluster.create(Fixtures.cluster(BalancerKind.ROUND_ROBIN, outlier, 1, 1, 1, 1), registry, clock);
    assertThat(c.maxEjected()).isEqualTo(2);
    for (Endpoint e : c.endpoints()) {
      for (int i = 0; i < 2; i++) {
        e.state().requestStarted();
        e.state().requestFinished(1, true, clock.now());
      }
    }
    assertThat(c.ejectedCount()).isEqualTo(2);
    assertThat(c.availableCount()).isEqualTo(2);
    clock.advance(Duration.ofSeconds(30));
    assertThat(c.ejectedCount()).isZero();

    // A reload without outlier detection turns it off for the same states.
    Cluster off = Cluster.create(Fixtures.cluster(BalancerKind.ROUND_ROBIN, null, 1, 1, 1, 1), registry, clock);
    EndpointState s = off.endpoints().get(0).state();
    for (int i = 0; i < 10; i++) {
      s.requestStarted();
      s.requestFinished(1, true, clock.now());
    }
    assertThat(off.ejectedCount()).isZero();
    assertThat(s.isEjected(clock.now())).isFalse();
  }

  @Test
  void each_event_loop_gets_its_own_balancer_of_the_configured_kind() {
    Cluster c = Cluster.create(Fixtures.cluster(BalancerKind.CONSISTENT_HASH, null, 1, 1, 1), registry, clock);
    LoadBalancer a = c.newBalancer(new Random(1));
    LoadBalancer b = c.newBalancer(new Random(2));
    assertThat(a).isNotSameAs(b).isInstanceOf(ConsistentHashBalancer.class);
    for (int i = 0; i < 100; i++) {
      PickContext ctx = PickContext.of("client-" + i, clock.now());
      assertThat(a.pick(ctx)).isSameAs(b.pick(ctx));
    }
  }

  @Test
  void slow_start_is_passed_to_the_balancers() {
    Cluster c =
        Cluster.create(
            Fixtures.cluster(BalancerKind.ROUND_ROBIN, null, 1, 1), registry, clock, Duration.ofSeconds(10));
    assertThat(c.slowStart()).isEqualTo(Duration.ofSeconds(10));
    assertThat(c.newBalancer()).isInstanceOf(SmoothWeightedBalancer.class);
    assertThatThrownBy(
            () -> Cluster.create(Fixtures.cluster(BalancerKind.P2C, null, 1), registry, clock, Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected: >= 0");
  }
}
