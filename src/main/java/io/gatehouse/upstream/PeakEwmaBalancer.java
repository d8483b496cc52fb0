package io.gatehouse.upstream;

import java.util.List;
import java.util.Random;

/**
 * Lowest peak-EWMA latency x (in-flight + 1) per unit of weight (Finagle's and Linkerd's cost).
 * Up to {@link LeastRequestBalancer#FULL_SCAN_MAX} endpoints it scans them all: in-flight counts
 * are shared atomics updated as each request is sent, so they are fresh enough that a scan does not
 * herd, and a scan keeps a slow endpoint to the few requests that really are cheaper there (two
 * random choices would hand it every pair it beats the slower of two fast endpoints in). Past that
 * it uses two random choices, O(1).
 *
 * <p>An endpoint without a latency sample yet scores the mean latency of those with one: neutral,
 * so it is neither flooded nor starved, and in-flight decides.
 */
final class PeakEwmaBalancer implements LoadBalancer {
  private final Endpoint[] endpoints;
  private final Random random;
  private final long slowStartNanos;
  private final LoadBalancer twoChoices;
  /** Scratch per pick; event-loop confined (see {@link LoadBalancer}). */
  private final double[] latency;

  PeakEwmaBalancer(List<Endpoint> endpoints, Random random, long slowStartNanos) {
    this.endpoints = endpoints.toArray(new Endpoint[0]);
    this.random = random;
    this.slowStartNanos = slowStartNanos;
    this.latency = new double[this.endpoints.length];
    this.twoChoices = this.endpoints.length > LeastRequestBalancer.FULL_SCAN_MAX
        ? new TwoChoicesBalancer(endpoints, random, Costs.peakEwma(slowStartNanos))
        : null;
  }

  @Override
  public Endpoint pick(PickContext ctx) {
    if (twoChoices != null) {
      return twoChoices.pick(ctx);
    }
    long now = ctx.nowNanos();
    double known = 0;
    int samples = 0;
    for (int i = 0; i < endpoints.length; i++) {
      Endpoint e = endpoints[i];
      latency[i] = e.usableFor(ctx) ? Costs.latencyOf(e, now) : Double.NaN;
      if (latency[i] >= 0) {
        known += latency[i];
        samples++;
      }
    }
    double neutral = samples == 0 ? 1 : known / samples;
    Endpoint best = null;
    double bestCost = 0;
    int ties = 0;
    for (int i = 0; i < endpoints.length; i++) {
      if (Double.isNaN(latency[i])) {
        continue; // not usable
      }
      Endpoint e = endpoints[i];
      double l = Math.max(1, latency[i] < 0 ? neutral : latency[i]);
      double c = l * (e.state().inFlight() + 1) / Costs.effectiveWeight(e, now, slowStartNanos);
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
