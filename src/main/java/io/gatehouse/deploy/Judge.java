package io.gatehouse.deploy;

/**
 * Decides one interval of a deployment from the target's and the baseline's samples. Absolute
 * thresholds first (error rate, p99), then, with {@code vsBaseline}, whether the target is
 * significantly worse than what runs now: a target three times slower than the baseline fails even
 * when it is inside the absolute SLO.
 */
final class Judge {
  /** One-sided significance level of both baseline tests. */
  static final double ALPHA = 0.01;
  /**
   * A slower target must also be materially slower (its median above the baseline's by this
   * factor) to fail: with thousands of samples a rank test finds a 2% difference significant, and
   * a deployment is not rolled back for that.
   */
  static final double MIN_LATENCY_RATIO = 1.2;
  /**
   * ... and by at least this much in absolute terms: a fresh cluster's first requests pay for new
   * connections, which on a fast path makes its median a fraction of a millisecond "significantly"
   * higher without anyone noticing a difference.
   */
  static final double MIN_LATENCY_DIFF_NANOS = 5_000_000;
  /** Baseline samples needed before comparing with it; fewer and only the absolute SLO applies. */
  static final int MIN_BASELINE = 20;

  private Judge() {}

  static Verdict judge(Sample target, Sample baseline, Slo slo) {
    double rate = target.errorRate();
    double p99 = target.quantile(0.99) / 1e6;
    double baseRate = baseline.errorRate();
    double baseP99 = baseline.quantile(0.99) / 1e6;
    if (target.requests() < slo.minRequests()) {
      return verdict(Verdict.Outcome.WAIT, "too few requests: " + target.requests() + " (expected: >= "
          + slo.minRequests() + ")", target, baseline, 1, 1);
    }
    if (rate > slo.maxErrorRate()) {
      return verdict(Verdict.Outcome.FAIL, "error rate " + pct(rate) + " above maxErrorRate " + pct(slo.maxErrorRate()),
          target, baseline, 1, 1);
    }
    if (p99 > slo.maxP99Millis()) {
      return verdict(Verdict.Outcome.FAIL, String.format("p99 %.1fms above maxP99 %dms", p99, slo.maxP99Millis()),
          target, baseline, 1, 1);
    }
    if (!slo.vsBaseline() || baseline.requests() < MIN_BASELINE) {
      return verdict(Verdict.Outcome.PASS, slo.vsBaseline() ? "within SLO (baseline too small to compare)"
          : "within SLO", target, baseline, 1, 1);
    }
    double errorP = Stats.proportionGreater(target.errors(), target.requests(), baseline.errors(), baseline.requests());
    double latencyP = Stats.mannWhitneyGreater(target.latencies(), baseline.latencies());
    if (errorP < ALPHA) {
      return verdict(Verdict.Outcome.FAIL, "error rate " + pct(rate) + " significantly above baseline "
          + pct(baseRate) + String.format(" (p=%.4f)", errorP), target, baseline, latencyP, errorP);
    }
    double median = target.quantile(0.5);
    double baseMedian = baseline.quantile(0.5);
    if (latencyP < ALPHA && median > baseMedian * MIN_LATENCY_RATIO && median - baseMedian > MIN_LATENCY_DIFF_NANOS) {
      return verdict(Verdict.Outcome.FAIL, String.format("latency significantly above baseline: median %.1fms vs %.1fms,"
          + " p99 %.1fms vs %.1fms (p=%.4f)", median / 1e6, baseMedian / 1e6, p99, baseP99, latencyP),
          target, baseline, latencyP, errorP);
    }
    return verdict(Verdict.Outcome.PASS, "within SLO and not worse than baseline", target, baseline, latencyP, errorP);
  }

  private static Verdict verdict(Verdict.Outcome outcome, String reason, Sample t, Sample b, double latencyP,
      double errorP) {
    return new Verdict(outcome, reason, t.requests(), t.errors(), t.errorRate(), t.quantile(0.99) / 1e6,
        b.requests(), b.errorRate(), b.quantile(0.99) / 1e6, latencyP, errorP);
  }

  private static String pct(double rate) {
    return String.format("%.2f%%", rate * 100);
  }
}
