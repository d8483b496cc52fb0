package io.gatehouse.upstream;

import java.util.List;

/**
 * nginx's smooth weighted round robin ({@code ngx_http_upstream_get_peer}): each pick adds every
 * usable endpoint's effective weight to its running score, takes the highest score and subtracts
 * the total. Weights 5,1,1 give {@code a a b a c a a}: proportional and spread out, never a burst
 * of five to {@code a}. O(n) per pick, like nginx; fine for the tens of endpoints a cluster has.
 *
 * <p>Weights are scaled by 1000 so a slow-start factor of 0.1 still leaves weight 1 something to
 * work with; the sequence is scale-invariant.
 */
final class SmoothWeightedBalancer implements LoadBalancer {
  private static final int SCALE = 1000;

  private final Endpoint[] endpoints;
  private final boolean unitWeights;
  private final long slowStartNanos;
  /** Running scores; event-loop confined (see {@link LoadBalancer}), so plain. */
  private final long[] current;

  /**
   * @param unitWeights treat every positive weight as 1 (round robin with slow start)
   * @param slowStartNanos slow-start window, 0 = off
   */
  SmoothWeightedBalancer(List<Endpoint> endpoints, boolean unitWeights, long slowStartNanos) {
    this.endpoints = endpoints.toArray(new Endpoint[0]);
    this.unitWeights = unitWeights;
    this.slowStartNanos = slowStartNanos;
    this.current = new long[this.endpoints.length];
  }

  @Override
  public Endpoint pick(PickContext ctx) {
    long now = ctx.nowNanos();
    long total = 0;
    int best = -1;
    for (int i = 0; i < endpoints.length; i++) {
      Endpoint e = endpoints[i];
      if (!e.usableFor(ctx)) {
        continue;
      }
      long w = effectiveWeight(e, now);
      current[i] += w;
      total += w;
      if (best < 0 || current[i] > current[best]) {
        best = i;
      }
    }
    if (best < 0) {
      return null;
    }
    current[best] -= total;
    return endpoints[best];
  }

  private long effectiveWeight(Endpoint e, long now) {
    int w = unitWeights ? 1 : e.weight();
    double factor = e.state().slowStartFactor(now, slowStartNanos);
    return Math.max(1, Math.round(w * SCALE * factor));
  }
}
