package io.gatehouse.deploy;

import java.util.Arrays;

/** The two tests the judge runs against the baseline; one-sided, normal approximations. */
final class Stats {
  private Stats() {}

  /**
   * Mann-Whitney U test that {@code target} tends to be larger than {@code baseline}: the p-value
   * of the normal approximation with tie correction (Mann and Whitney 1947; the tie term as in
   * Lehmann, Nonparametrics, 1975). 1 when either side is empty.
   */
  static double mannWhitneyGreater(long[] target, long[] baseline) {
    int n1 = target.length;
    int n2 = baseline.length;
    if (n1 == 0 || n2 == 0) {
      return 1;
    }
    int n = n1 + n2;
    long[][] all = new long[n][];
    for (int i = 0; i < n1; i++) {
      all[i] = new long[] {target[i], 1};
    }
    for (int i = 0; i < n2; i++) {
      all[n1 + i] = new long[] {baseline[i], 0};
    }
    Arrays.sort(all, (a, b) -> Long.compare(a[0], b[0]));
    double rankSumTarget = 0;
    double tieTerm = 0;
    for (int i = 0; i < n; ) {
      int j = i;
      while (j < n && all[j][0] == all[i][0]) {
        j++;
      }
      double rank = (i + 1 + j) / 2.0; // average of ranks i+1..j
      for (int k = i; k < j; k++) {
        if (all[k][1] == 1) {
          rankSumTarget += rank;
        }
      }
      double t = j - i;
      tieTerm += t * t * t - t;
      i = j;
    }
    double u = rankSumTarget - n1 * (n1 + 1) / 2.0;
    double mean = n1 * (double) n2 / 2.0;
    double variance = n1 * (double) n2 / 12.0 * ((n + 1) - tieTerm / ((double) n * (n - 1)));
    if (variance <= 0) {
      return 1; // every value tied: no evidence either way
    }
    double z = (u - mean - 0.5) / Math.sqrt(variance); // continuity correction
    return 1 - normalCdf(z);
  }

  /**
   * Two-proportion z-test (pooled) that the target's failure rate exceeds the baseline's; the
   * one-sided p-value, 1 when either side is empty or no request failed at all.
   */
  static double proportionGreater(long targetErrors, long targetRequests, long baseErrors, long baseRequests) {
    if (targetRequests == 0 || baseRequests == 0) {
      return 1;
    }
    double p1 = (double) targetErrors / targetRequests;
    double p2 = (double) baseErrors / baseRequests;
    double pooled = (double) (targetErrors + baseErrors) / (targetRequests + baseRequests);
    double se = Math.sqrt(pooled * (1 - pooled) * (1.0 / targetRequests + 1.0 / baseRequests));
    if (se == 0) {
      return 1;
    }
    return 1 - normalCdf((p1 - p2) / se);
  }

  /** Standard normal CDF, via erf (Abramowitz and Stegun 7.1.26, error below 1.5e-7). */
  static double normalCdf(double z) {
    double x = Math.abs(z) / Math.sqrt(2);
    double t = 1 / (1 + 0.3275911 * x);
    double erf = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592)
        * t * Math.exp(-x * x);
    return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
  }
}
