package io.gatehouse.ratelimit;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keyed rate limiter using GCRA (the generic cell rate algorithm, a token bucket kept as one
 * timestamp per key): a key may send {@code burst} requests at once and {@code perSecond} on
 * average. Lock-free: one compare-and-set per decision. Keys that have fully recovered are dropped
 * when the table grows, so client churn does not grow it without bound.
 */
public final class RateLimiter implements Limiter {
  private static final int SWEEP_ABOVE = 100_000;

  private final long intervalNanos;
  private final long toleranceNanos;
  private final Map<String, AtomicLong> arrivals = new ConcurrentHashMap<>();

  public RateLimiter(double perSecond, int burst) {
    if (perSecond <= 0 || burst < 1) {
      throw new IllegalArgumentException("perSecond: " + perSecond + ", burst: " + burst
          + " (expected: perSecond > 0, burst >= 1)");
    }
    this.intervalNanos = Math.max(1, (long) (1_000_000_000L / perSecond));
    this.toleranceNanos = intervalNanos * burst;
  }

  /**
   * Decides one request of {@code key} at time {@code nowNanos}.
   *
   * @return 0 when allowed, else how many nanoseconds until a retry would be allowed
   */
  public long acquire(String key, long nowNanos) {
    AtomicLong tat = arrivals.get(key);
    if (tat == null) {
      if (arrivals.size() > SWEEP_ABOVE) {
        sweep(nowNanos);
      }
      tat = arrivals.computeIfAbsent(key, k -> new AtomicLong(nowNanos));
    }
    while (true) {
      long current = tat.get();
      long start = Math.max(current, nowNanos);
      long next = start + intervalNanos;
      long excess = next - nowNanos - toleranceNanos;
      if (excess > 0) {
        return excess;
      }
      if (tat.compareAndSet(current, next)) {
        return 0;
      }
    }
  }

  @Override
  public Verdict decide(String key, long nowNanos) {
    long waitNanos = acquire(key, nowNanos);
    return waitNanos == 0 ? Verdict.ADMIT : new Verdict.Reject(waitNanos, null);
  }

  /** Keys currently tracked (for tests and metrics). */
  public int trackedKeys() {
    return arrivals.size();
  }

  private void sweep(long nowNanos) {
    arrivals.entrySet().removeIf(e -> e.getValue().get() <= nowNanos);
  }
}
