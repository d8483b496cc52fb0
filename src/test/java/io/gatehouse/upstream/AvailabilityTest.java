package io.gatehouse.upstream;

import static io.gatehouse.upstream.Fixtures.addr;
import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.config.BalancerKind;
import io.gatehouse.config.HostPort;
import io.gatehouse.config.OutlierConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** What every balancer must do, whatever its strategy. */
class AvailabilityTest {
  private final long now = 0;

  private static LoadBalancer balancer(BalancerKind kind, List<Endpoint> eps) {
    return LoadBalancer.of(kind, eps, Duration.ZERO, new Random(42));
  }

  private static Set<HostPort> picked(LoadBalancer lb, int picks, PickContext ctx) {
    Set<HostPort> seen = new HashSet<>();
    for (int i = 0; i < picks; i++) {
      Endpoint e = lb.pick(ctx);
      seen.add(e == null ? null : e.address());
    }
    return seen;
  }

  @ParameterizedTest
  @EnumSource(BalancerKind.class)
  void drained_disabled_down_and_ejected_endpoints_are_never_picked(BalancerKind kind) {
    List<Endpoint> eps = Fixtures.endpoints(now, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    eps.get(0).state().setAdminState(AdminState.DRAINING);
    eps.get(1).state().setAdminState(AdminState.DISABLED);
    eps.get(2).state().setHealth(Health.DOWN, now);
    EndpointState ejected = eps.get(3).state();
    ejected.attach(new OutlierDetector(new OutlierConfig(1, Duration.ofSeconds(30), 100), List.of(ejected)));
    ejected.requestStarted();
    ejected.requestFinished(1_000, true, now);
    assertThat(ejected.isEjected(now)).isTrue();

    LoadBalancer lb = balancer(kind, eps);
    Set<HostPort> seen = new HashSet<>();
    for (int i = 0; i < 5_000; i++) {
      seen.add(lb.pick(PickContext.of("key-" + i, now)).address());
    }
    assertThat(seen).doesNotContain(addr(1), addr(2), addr(3), addr(4)).hasSize(8);
  }

  @ParameterizedTest
  @EnumSource(BalancerKind.class)
  void a_starting_endpoint_is_picked(BalancerKind kind) {
    List<Endpoint> eps = Fixtures.endpoints(now, 1);
    EndpointState fresh = new EndpointRegistry().stateFor(addr(9));
    assertThat(fresh.health()).isEqualTo(Health.STARTING);
    LoadBalancer lb = balancer(kind, List.of(new Endpoint(addr(9), 1, fresh)));
    assertThat(lb.pick(PickContext.of("k", now)).address()).isEqualTo(addr(9));
    assertThat(eps).hasSize(1);
  }

  @ParameterizedTest
  @EnumSource(BalancerKind.class)
  void excluded_endpoints_are_skipped(BalancerKind kind) {
    List<Endpoint> eps = Fixtures.endpoints(now, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    LoadBalancer lb = balancer(kind, eps);
    for (int i = 0; i < 2_000; i++) {
      PickContext first = PickContext.of("key-" + i, now);
      Endpoint tried = lb.pick(first);
      Endpoint retry = lb.pick(PickContext.of("key-" + i, now, Set.of(tried.address())));
      assertThat(retry).isNotNull();
      assertThat(retry.address()).isNotEqualTo(tried.address());
    }
  }

  @ParameterizedTest
  @EnumSource(BalancerKind.class)
  void the_last_usable_endpoint_is_found_and_then_null(BalancerKind kind) {
    List<Endpoint> eps = Fixtures.endpoints(now, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    for (int i = 1; i < eps.size(); i++) {
      eps.get(i).state().setHealth(Health.DOWN, now);
    }
    LoadBalancer lb = balancer(kind, eps);
    assertThat(picked(lb, 200, PickContext.of("k", now))).containsExactly(addr(1));
    assertThat(picked(lb, 50, PickContext.of("k", now, Set.of(addr(1))))).containsExactly((HostPort) null);
    eps.get(0).state().setAdminState(AdminState.DISABLED);
    assertThat(picked(lb, 50, PickContext.of("k", now))).containsExactly((HostPort) null);
  }

  @ParameterizedTest
  @EnumSource(BalancerKind.class)
  void an_empty_cluster_picks_null(BalancerKind kind) {
    assertThat(balancer(kind, new ArrayList<>()).pick(PickContext.of("k", now))).isNull();
  }

  @ParameterizedTest
  @EnumSource(BalancerKind.class)
  void every_endpoint_gets_traffic_when_all_are_healthy(BalancerKind kind) {
    LoadBalancer lb = balancer(kind, Fixtures.endpoints(now, 1, 1, 1, 1));
    Set<HostPort> seen = new HashSet<>();
    for (int i = 0; i < 1_000; i++) {
      seen.add(lb.pick(PickContext.of("key-" + i, now)).address());
    }
    assertThat(seen).containsExactlyInAnyOrder(addr(1), addr(2), addr(3), addr(4));
  }
}
