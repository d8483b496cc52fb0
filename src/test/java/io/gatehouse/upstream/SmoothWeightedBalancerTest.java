package io.gatehouse.upstream;

import static io.gatehouse.upstream.Fixtures.addr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.gatehouse.config.HostPort;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SmoothWeightedBalancerTest {
  private final long now = 0;

  @Test
  void weights_5_1_1_give_the_nginx_sequence() {
    List<Endpoint> eps = Fixtures.endpoints(now, 5, 1, 1);
    LoadBalancer lb = LoadBalancer.weighted(eps);
    String names = "abc";
    String seq =
        IntStream.range(0, 14)
            .mapToObj(i -> String.valueOf(names.charAt(eps.indexOf(lb.pick(PickContext.of(null, now))))))
            .collect(Collectors.joining(" "));
    assertThat(seq).isEqualTo("a a b a c a a a a b a c a a");
  }

  @Test
  void weights_are_honoured_within_one_percent_over_10k_picks() {
    LoadBalancer lb = LoadBalancer.weighted(Fixtures.endpoints(now, 5, 3, 2));
    Map<HostPort, Integer> counts = Fixtures.tally(lb, now, 10_000);
    assertThat(counts.get(addr(1)) / 10_000.0).isCloseTo(0.5, within(0.01));
    assertThat(counts.get(addr(2)) / 10_000.0).isCloseTo(0.3, within(0.01));
    assertThat(counts.get(addr(3)) / 10_000.0).isCloseTo(0.2, within(0.01));
  }

  @Test
  void an_unavailable_endpoint_shares_its_load_by_weight() {
    List<Endpoint> eps = Fixtures.endpoints(now, 2, 1, 1);
    eps.get(1).state().setAdminState(AdminState.DRAINING);
    Map<HostPort, Integer> counts = Fixtures.tally(LoadBalancer.weighted(eps), now, 3_000);
    assertThat(counts).containsOnlyKeys(addr(1), addr(3));
    assertThat(counts.get(addr(1))).isEqualTo(2_000);
  }

  @Test
  void zero_weight_is_never_picked() {
    Map<HostPort, Integer> counts =
        Fixtures.tally(LoadBalancer.weighted(Fixtures.endpoints(now, 1, 0)), now, 100);
    assertThat(counts).containsOnlyKeys(addr(1));
  }

  @Test
  void round_robin_rotates_evenly_ignoring_weights() {
    List<Endpoint> eps = Fixtures.endpoints(now, 5, 1, 1);
    LoadBalancer lb = LoadBalancer.roundRobin(eps);
    assertThat(IntStream.range(0, 6).mapToObj(i -> lb.pick(PickContext.of(null, now))))
        .containsExactly(eps.get(0), eps.get(1), eps.get(2), eps.get(0), eps.get(1), eps.get(2));
  }
}
