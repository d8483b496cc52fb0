package io.gatehouse.upstream;

/** Scores for the choice-based balancers; lower is better. */
final class Costs {
  private Costs() {}

  /** The cost of sending one more request to {@code e}; {@code rival} is the other candidate. */
  interface Cost {
    double of(Endpoint e, Endpoint rival, long nowNanos);
  }

  /**
   * Weight after slow start: a ramping endpoint at 10% of its weight looks ten times as loaded,
   * so it gets about a tenth of the share.
   */
  static double effectiveWeight(Endpoint e, long nowNanos, long slowStartNanos) {
    return e.weight() * e.state().slowStartFactor(nowNanos, slowStartNanos);
  }

  /** (in-flight + 1) per unit of effective weight: Envoy's least-request with weights. */
  static Cost inFlight(long slowStartNanos) {
    return (e, rival, now) ->
        (e.state().inFlight() + 1) / effectiveWeight(e, now, slowStartNanos);
  }

  /**
   * Peak-EWMA latency x (in-flight + 1) per unit of effective weight (Finagle, Linkerd). An
   * endpoint with no latency sample yet borrows its rival's estimate: neutral, so it is neither
   * flooded (a zero score would be) nor starved, and in-flight decides.
   */
  static Cost peakEwma(long slowStartNanos) {
    return (e, rival, now) -> {
      double latency = latencyOf(e, now);
      if (latency < 0) {
        latency = rival == null ? -1 : latencyOf(rival, now);
      }
      if (latency < 1) {
        latency = 1; // never 0: in-flight must still count
      }
      return latency * (e.state().inFlight() + 1) / effectiveWeight(e, now, slowStartNanos);
    };
  }

  /** Peak-EWMA latency of {@code e} at {@code now}, or -1 before its first sample. */
  static double latencyOf(Endpoint e, long now) {
    PeakEwma l = e.state().latency();
    return l.hasSamples() ? l.valueAt(now) : -1;
  }
}
