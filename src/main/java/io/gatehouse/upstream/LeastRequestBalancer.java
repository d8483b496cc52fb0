package io.gatehouse.upstream;

import java.util.List;
import java.util.Random;

/**
 * Fewest in-flight requests per unit of (slow-start adjusted) weight. Up to {@link
 * #FULL_SCAN_MAX} endpoints it scans them all and breaks ties at random (a fixed tie-break would
 * pile every idle moment onto the first endpoint); past that it uses two random choices, which
 * costs O(1) and avoids herding (see {@link TwoChoicesBalancer}).
 */
final class LeastRequestBalancer implements LoadBalancer {
  static final int FULL_SCAN_MAX = 8;

  private final Endpoint[] endpoints;
  private final Random random;
  private final Costs.Cost cost;
  private final LoadBalancer twoChoices;

  LeastRequestBalancer(List<Endpoint> endpoints, Random random, long slowStartNanos) {
    this.endpoints = endpoints.toArray(new Endpoint[0]);
    this.random = random;
    this.cost = Costs.inFlight(slowStartNanos);
    this.twoChoices =
        this.endpoints.length > FULL_SCAN_MAX
            ? new TwoChoicesBalancer(endpoints, random, cost)
            : null;
  }

  @Override
  public Endpoint pick(PickContext ctx) {
    if (twoChoices != null) {
      return twoChoices.pick(ctx);
    }
    long now = ctx.nowNanos();
    Endpoint best = null;
    double bestCost = 0;
    int ties = 0;
    for (Endpoint e : endpoints) {
      if (!e.usableFor(ctx)) {
        continue;
      }
      double c = cost.of(e, null, now);
      if (best == null || c < bestCost) {
        best = e;
        bestCost = c;
        ties = 1;
      } else if (c == bestCost && random.nextInt(++ties) == 0) {
        best = e; // reservoir sampling: each tied endpoint equally likely
      }
    }
    return best;
  }
}
