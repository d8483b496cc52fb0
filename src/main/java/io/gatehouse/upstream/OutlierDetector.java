package io.gatehouse.upstream;

import io.gatehouse.config.OutlierConfig;
import java.util.List;

/**
 * One cluster generation's passive outlier policy. {@link EndpointState} counts consecutive
 * failures itself and asks here before ejecting, because only the cluster knows how many of its
 * members are already out: at most {@code maxEjectionPercent} of them (but always at least one
 * when the percentage is positive, as in Envoy, so small clusters can eject at all; 0 forbids
 * ejection). Two endpoints ejected at the same instant on two event loops may overshoot the cap by
 * one; a lock on the failure path would cost more than that.
 */
final class OutlierDetector {
  /** Back-off is {@code ejectFor x 2^(n-1)}, capped at this multiple of {@code ejectFor}. */
  static final int MAX_BACKOFF_MULTIPLIER = 10;

  private final int consecutiveFailures;
  private final long ejectForNanos;
  private final int maxEjectionPercent;
  private final List<EndpointState> members;

  OutlierDetector(OutlierConfig cfg, List<EndpointState> members) {
    if (cfg.consecutiveFailures() < 1) {
      throw new IllegalArgumentException(
          "consecutiveFailures: " + cfg.consecutiveFailures() + " (expected: >= 1)");
    }
    if (cfg.ejectFor() == null || cfg.ejectFor().isNegative() || cfg.ejectFor().isZero()) {
      throw new IllegalArgumentException("ejectFor: " + cfg.ejectFor() + " (expected: > 0)");
    }
    this.consecutiveFailures = cfg.consecutiveFailures();
    this.ejectForNanos = cfg.ejectFor().toNanos();
    this.maxEjectionPercent = Math.max(0, Math.min(100, cfg.maxEjectionPercent()));
    this.members = List.copyOf(members);
  }

  int consecutiveFailures() {
    return consecutiveFailures;
  }

  /** Ejection length for the {@code n}-th ejection (1-based). */
  long backoffNanos(int n) {
    long multiplier = Math.min(1L << Math.min(Math.max(n, 1) - 1, 30), MAX_BACKOFF_MULTIPLIER);
    return ejectForNanos * multiplier;
  }

  long maxBackoffNanos() {
    return ejectForNanos * MAX_BACKOFF_MULTIPLIER;
  }

  /** Most members that may be ejected at once. */
  int maxEjected() {
    if (maxEjectionPercent == 0 || members.isEmpty()) {
      return 0;
    }
    return Math.max(1, members.size() * maxEjectionPercent / 100);
  }

  boolean mayEject(EndpointState candidate, long nowNanos) {
    return ejectedCount(nowNanos) < maxEjected();
  }

  int ejectedCount(long nowNanos) {
    int n = 0;
    for (EndpointState s : members) {
      if (s.isEjected(nowNanos)) {
        n++;
      }
    }
    return n;
  }
}
