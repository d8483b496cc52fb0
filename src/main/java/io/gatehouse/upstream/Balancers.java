package io.gatehouse.upstream;

import io.gatehouse.config.BalancerKind;
import java.util.List;
import java.util.Random;

/** Maps a {@link BalancerKind} to its implementation. */
final class Balancers {
  private Balancers() {}

  /**
   * @param slowStartNanos slow-start window, 0 = off
   * @param table prebuilt Maglev table for {@code CONSISTENT_HASH} (shared by all event loops),
   *     or {@code null} to build one
   */
  static LoadBalancer create(
      BalancerKind kind,
      List<Endpoint> endpoints,
      long slowStartNanos,
      Random random,
      MaglevTable table) {
    switch (kind) {
      case ROUND_ROBIN:
        // Plain rotation cannot express a partial share; SWRR with equal weights is round robin.
        return slowStartNanos == 0
            ? new RoundRobinBalancer(endpoints)
            : new SmoothWeightedBalancer(endpoints, true, slowStartNanos);
      case WEIGHTED:
        return new SmoothWeightedBalancer(endpoints, false, slowStartNanos);
      case LEAST_REQUEST:
        return new LeastRequestBalancer(endpoints, random, slowStartNanos);
      case P2C:
        return new TwoChoicesBalancer(endpoints, random, Costs.inFlight(slowStartNanos));
      case EWMA:
        return new PeakEwmaBalancer(endpoints, random, slowStartNanos);
      case CONSISTENT_HASH:
        return new ConsistentHashBalancer(
            table != null ? table : MaglevTable.build(endpoints), random);
      default:
        throw new IllegalArgumentException("balancer: " + kind);
    }
  }
}
