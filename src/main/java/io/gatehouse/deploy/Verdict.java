package io.gatehouse.deploy;

/**
 * The judge's answer for one interval, with the figures it measured.
 *
 * @param outcome pass, fail or wait (too few requests to tell)
 * @param reason why, for the history and the log
 * @param latencyP the rank test's one-sided p-value (target slower), 1 when not computed
 * @param errorP the proportion test's one-sided p-value (target fails more), 1 when not computed
 */
public record Verdict(Outcome outcome, String reason, long requests, long errors, double errorRate,
    double p99Millis, long baselineRequests, double baselineErrorRate, double baselineP99Millis,
    double latencyP, double errorP) {
  public enum Outcome { PASS, FAIL, WAIT }
}
