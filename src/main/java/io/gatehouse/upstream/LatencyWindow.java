package io.gatehouse.upstream;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Latency quantiles and error rate of one endpoint over about the last minute, for operators (the
 * admin API's p50/p99 and error rate). Six ten-second slots of a log2 histogram (microseconds);
 * recording is a few atomic adds, no lock. A slot is reset by the first request of its new period;
 * a request racing that reset may be lost, which a minute-wide operator figure tolerates.
 */
public final class LatencyWindow {
  static final long SLOT_NANOS = 10_000_000_000L;
  static final int SLOTS = 6;
  private static final int BUCKETS = 40;

  private final AtomicLong[] periods = new AtomicLong[SLOTS];
  private final AtomicLongArray counts = new AtomicLongArray(SLOTS * BUCKETS);
  private final AtomicLongArray failures = new AtomicLongArray(SLOTS);

  /** Figures over the window: request count, failure share, latency quantiles in milliseconds. */
  public record Figures(long requests, double errorRate, double p50Millis, double p99Millis) {}

  public LatencyWindow() {
    for (int i = 0; i < SLOTS; i++) {
      periods[i] = new AtomicLong(Long.MIN_VALUE);
    }
  }

  void record(long nowNanos, long latencyNanos, boolean failure) {
    long period = Math.floorDiv(nowNanos, SLOT_NANOS);
    int slot = (int) Math.floorMod(period, SLOTS);
    long seen = periods[slot].get();
    if (seen != period && periods[slot].compareAndSet(seen, period)) {
      for (int b = 0; b < BUCKETS; b++) {
        counts.set(slot * BUCKETS + b, 0);
      }
      failures.set(slot, 0);
    }
    long micros = Math.max(1, latencyNanos / 1000);
    int bucket = Math.min(BUCKETS - 1, 63 - Long.numberOfLeadingZeros(micros));
    counts.incrementAndGet(slot * BUCKETS + bucket);
    if (failure) {
      failures.incrementAndGet(slot);
    }
  }

  public Figures figures(long nowNanos) {
    long period = Math.floorDiv(nowNanos, SLOT_NANOS);
    long[] merged = new long[BUCKETS];
    long total = 0;
    long failed = 0;
    for (int slot = 0; slot < SLOTS; slot++) {
      long p = periods[slot].get();
      if (p == Long.MIN_VALUE || period - p >= SLOTS || p > period) {
        continue;
      }
      for (int b = 0; b < BUCKETS; b++) {
        long c = counts.get(slot * BUCKETS + b);
        merged[b] += c;
        total += c;
      }
      failed += failures.get(slot);
    }
    if (total == 0) {
      return new Figures(0, 0, 0, 0);
    }
    return new Figures(total, Math.min(1, (double) failed / total), quantile(merged, total, 0.5),
        quantile(merged, total, 0.99));
  }

  /** The upper bound of the bucket holding the quantile: at most 2x the true value. */
  private static double quantile(long[] buckets, long total, double q) {
    long rank = (long) Math.ceil(q * total);
    long seen = 0;
    for (int b = 0; b < buckets.length; b++) {
      seen += buckets[b];
      if (seen >= rank) {
        return (2L << b) / 1000.0;
      }
    }
    return (2L << (buckets.length - 1)) / 1000.0;
  }
}
