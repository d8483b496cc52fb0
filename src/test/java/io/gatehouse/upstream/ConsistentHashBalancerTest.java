package io.gatehouse.upstream;

import static io.gatehouse.upstream.Fixtures.addr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.gatehouse.config.HostPort;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConsistentHashBalancerTest {
  private static final int KEYS = 20_000;
  private final long now = 0;

  private static Map<String, HostPort> assign(List<Endpoint> eps, long now) {
    LoadBalancer lb = LoadBalancer.consistentHash(eps, new Random(1));
    Map<String, HostPort> out = new HashMap<>();
    for (int i = 0; i < KEYS; i++) {
      String key = "192.168." + (i / 256) + "." + (i % 256);
      out.put(key, lb.pick(PickContext.of(key, now)).address());
    }
    return out;
  }

  private static double movedShare(Map<String, HostPort> before, Map<String, HostPort> after) {
    long moved = before.keySet().stream().filter(k -> !before.get(k).equals(after.get(k))).count();
    return (double) moved / before.size();
  }

  @Test
  void adding_one_endpoint_to_ten_moves_about_one_in_eleven_keys() {
    int[] ten = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    int[] eleven = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    Map<String, HostPort> before = assign(Fixtures.endpoints(now, ten), now);
    Map<String, HostPort> after = assign(Fixtures.endpoints(now, eleven), now);
    double ideal = 1.0 / 11;
    assertThat(movedShare(before, after)).isBetween(0.5 * ideal, 1.5 * ideal);
    // Keys that moved went to the newcomer, not between old endpoints (up to Maglev's small churn).
    long toNewcomer =
        before.keySet().stream()
            .filter(k -> !before.get(k).equals(after.get(k)))
            .filter(k -> after.get(k).equals(addr(11)))
            .count();
    assertThat(toNewcomer).isGreaterThan((long) (0.9 * movedShare(before, after) * KEYS));
  }

  @Test
  void removing_one_endpoint_of_ten_moves_about_one_in_ten_keys() {
    List<Endpoint> ten = Fixtures.endpoints(now, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
    Map<String, HostPort> before = assign(ten, now);
    Map<String, HostPort> after = assign(new ArrayList<>(ten.subList(1, 10)), now);
    assertThat(movedShare(before, after)).isBetween(0.05, 0.15);
  }

  @Test
  void config_order_does_not_matter() {
    List<Endpoint> eps = Fixtures.endpoints(now, 1, 1, 1, 1, 1);
    List<Endpoint> reversed = new ArrayList<>(eps);
    java.util.Collections.reverse(reversed);
    assertThat(assign(reversed, now)).isEqualTo(assign(eps, now));
  }

  @Test
  void weights_are_honoured_within_two_percent() {
    Map<String, HostPort> a = assign(Fixtures.endpoints(now, 3, 1), now);
    long first = a.values().stream().filter(addr(1)::equals).count();
    assertThat((double) first / KEYS).isCloseTo(0.75, within(0.02));
  }

  @Test
  void keys_of_an_unavailable_endpoint_spread_over_the_others_and_come_back() {
    List<Endpoint> eps = Fixtures.endpoints(now, 1, 1, 1, 1, 1, 1, 1, 1);
    Map<String, HostPort> before = assign(eps, now);
    eps.get(0).state().setHealth(Health.DOWN, now);
    Map<String, HostPort> during = assign(eps, now);
    Set<HostPort> heirs = new HashSet<>();
    before.forEach(
        (k, v) -> {
          if (v.equals(addr(1))) {
            heirs.add(during.get(k));
          } else {
            assertThat(during.get(k)).as("unaffected key %s", k).isEqualTo(v);
          }
        });
    assertThat(heirs).doesNotContain(addr(1)).hasSizeGreaterThan(4);
    eps.get(0).state().setHealth(Health.UP, now);
    assertThat(assign(eps, now)).isEqualTo(before);
  }

  @Test
  void a_missing_key_is_spread_at_random() {
    LoadBalancer lb = LoadBalancer.consistentHash(Fixtures.endpoints(now, 1, 1, 1), new Random(3));
    assertThat(Fixtures.tally(lb, now, 300)).containsOnlyKeys(addr(1), addr(2), addr(3));
  }

  @Test
  void a_large_cluster_uses_the_larger_table() {
    int[] w = new int[700];
    java.util.Arrays.fill(w, 1);
    List<Endpoint> eps = new ArrayList<>();
    EndpointRegistry r = new EndpointRegistry();
    for (int i = 0; i < w.length; i++) {
      HostPort a = new HostPort("10.1." + (i / 256) + "." + (i % 256), 80);
      eps.add(new Endpoint(a, 1, r.stateFor(a)));
    }
    MaglevTable t = MaglevTable.build(eps);
    assertThat(t.size()).isEqualTo(MaglevTable.LARGE_SIZE);
    assertThat(t.distinct()).isEqualTo(700);
  }
}
