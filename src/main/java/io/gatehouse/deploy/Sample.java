package io.gatehouse.deploy;

import java.util.Arrays;

/**
 * One cohort's requests over an interval: how many, how many failed, and a bounded sample of their
 * upstream latencies (nanoseconds). Immutable.
 */
public record Sample(long requests, long errors, long[] latencies) {
  public static final Sample EMPTY = new Sample(0, 0, new long[0]);
  /** Latency samples kept per cohort and interval; enough for a p99 and a rank test. */
  static final int MAX_LATENCIES = 2048;

  public Sample {
    latencies = latencies.clone();
  }

  double errorRate() {
    return requests == 0 ? 0 : (double) errors / requests;
  }

  /** The q-quantile of the latency samples in nanoseconds (nearest rank), 0 without samples. */
  long quantile(double q) {
    if (latencies.length == 0) {
      return 0;
    }
    long[] sorted = latencies.clone();
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank))];
  }

  /**
   * Both samples' counts; latencies concatenated and, past the bound, thinned evenly so the merge
   * stays bounded (a step that waits for more requests accumulates across intervals).
   */
  Sample plus(Sample other) {
    long[] all = new long[latencies.length + other.latencies.length];
    System.arraycopy(latencies, 0, all, 0, latencies.length);
    System.arraycopy(other.latencies, 0, all, latencies.length, other.latencies.length);
    if (all.length > MAX_LATENCIES) {
      long[] thin = new long[MAX_LATENCIES];
      for (int i = 0; i < MAX_LATENCIES; i++) {
        thin[i] = all[(int) ((long) i * all.length / MAX_LATENCIES)];
      }
      all = thin;
    }
    return new Sample(requests + other.requests, errors + other.errors, all);
  }
}
