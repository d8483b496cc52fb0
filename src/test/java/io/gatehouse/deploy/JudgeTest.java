package io.gatehouse.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The judge on synthetic samples: absolute SLO, then the baseline tests. */
class JudgeTest {
  private static final Slo SLO = new Slo(0.10, 500, 50, true);

  /** n latencies around {@code millis} (log-normal-ish spread), {@code errors} of them failed. */
  private static Sample sample(int n, int errors, double millis, long seed) {
    Random random = new Random(seed);
    long[] lat = new long[n];
    for (int i = 0; i < n; i++) {
      lat[i] = (long) (millis * 1e6 * Math.exp(random.nextGaussian() * 0.2));
    }
    return new Sample(n, errors, lat);
  }

  @Test
  void equal_distributions_pass() {
    Verdict v = Judge.judge(sample(400, 0, 20, 1), sample(4000, 0, 20, 2), SLO);
    assertThat(v.outcome()).as(v.reason()).isEqualTo(Verdict.Outcome.PASS);
    assertThat(v.latencyP()).isGreaterThan(Judge.ALPHA);
  }

  @Test
  void three_times_slower_within_the_absolute_slo_is_rejected_by_the_baseline() {
    Sample target = sample(400, 0, 60, 1);
    assertThat(target.quantile(0.99) / 1e6).as("p99 within maxP99").isLessThan(SLO.maxP99Millis());
    Verdict v = Judge.judge(target, sample(4000, 0, 20, 2), SLO);
    assertThat(v.outcome()).as(v.reason()).isEqualTo(Verdict.Outcome.FAIL);
    assertThat(v.reason()).contains("latency");
    Verdict absoluteOnly = Judge.judge(target, sample(4000, 0, 20, 2), new Slo(0.10, 500, 50, false));
    assertThat(absoluteOnly.outcome()).isEqualTo(Verdict.Outcome.PASS);
  }

  @Test
  void a_significant_but_immaterial_difference_of_a_fraction_of_a_millisecond_passes() {
    Verdict v = Judge.judge(sample(400, 0, 1.6, 1), sample(4000, 0, 1.0, 2), SLO);
    assertThat(v.latencyP()).as("the rank test does see it").isLessThan(Judge.ALPHA);
    assertThat(v.outcome()).as(v.reason()).isEqualTo(Verdict.Outcome.PASS);
  }

  @Test
  void five_percent_errors_against_none_is_rejected_even_under_the_absolute_threshold() {
    Verdict v = Judge.judge(sample(1000, 50, 20, 1), sample(4000, 0, 20, 2), SLO);
    assertThat(v.outcome()).as(v.reason()).isEqualTo(Verdict.Outcome.FAIL);
    assertThat(v.reason()).contains("error rate");
    assertThat(v.errorP()).isLessThan(Judge.ALPHA);
  }

  @Test
  void absolute_thresholds_fail_without_a_baseline() {
    Slo strict = new Slo(0.01, 50, 50, false);
    assertThat(Judge.judge(sample(200, 20, 10, 1), Sample.EMPTY, strict).reason()).contains("maxErrorRate");
    assertThat(Judge.judge(sample(200, 0, 100, 1), Sample.EMPTY, strict).reason()).contains("maxP99");
  }

  @Test
  void too_few_requests_wait_and_never_pass() {
    Verdict v = Judge.judge(sample(49, 0, 20, 1), sample(4000, 0, 20, 2), SLO);
    assertThat(v.outcome()).isEqualTo(Verdict.Outcome.WAIT);
    assertThat(Judge.judge(Sample.EMPTY, Sample.EMPTY, SLO).outcome()).isEqualTo(Verdict.Outcome.WAIT);
  }

  @Test
  void rank_test_handles_ties_and_normal_cdf_is_accurate() {
    long[] same = new long[100];
    java.util.Arrays.fill(same, 5);
    assertThat(Stats.mannWhitneyGreater(same, same)).isEqualTo(1.0);
    assertThat(Stats.normalCdf(1.959964)).isCloseTo(0.975, org.assertj.core.data.Offset.offset(1e-6));
    assertThat(Stats.normalCdf(-2.326348)).isCloseTo(0.01, org.assertj.core.data.Offset.offset(1e-6));
    // {1,2,3} vs {1,2,3} with heavy ties: no evidence either way.
    assertThat(Stats.mannWhitneyGreater(new long[] {1, 2, 3, 1, 2, 3}, new long[] {1, 2, 3, 1, 2, 3})).isGreaterThan(0.4);
  }

  @Test
  void reservoir_stays_bounded_and_uniform() {
    Reservoir r = new Reservoir(1000);
    for (int i = 0; i < 100_000; i++) {
      r.add(i);
    }
    long[] values = r.values();
    assertThat(values).hasSize(1000);
    double mean = java.util.Arrays.stream(values).average().orElseThrow();
    assertThat(mean).isBetween(40_000.0, 60_000.0);
  }
}
