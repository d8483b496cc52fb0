package io.gatehouse.deploy;

/**
 * What the target must meet per interval.
 *
 * @param maxErrorRate failed requests / requests, 0..1
 * @param maxP99Millis p99 of upstream latency
 * @param minRequests fewer target requests than this in an interval: no verdict, the step waits
 * @param vsBaseline also compare the target with the current backends over the same interval
 */
public record Slo(double maxErrorRate, long maxP99Millis, long minRequests, boolean vsBaseline) {
  public Slo {
    if (!(maxErrorRate >= 0 && maxErrorRate <= 1)) {
      throw new IllegalArgumentException("maxErrorRate: " + maxErrorRate + " (expected: 0..1)");
    }
    if (maxP99Millis <= 0) {
      throw new IllegalArgumentException("maxP99: " + maxP99Millis + "ms (expected: > 0)");
    }
    if (minRequests < 1) {
      throw new IllegalArgumentException("minRequests: " + minRequests + " (expected: >= 1)");
    }
  }
}
