package io.gatehouse.upstream;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Caps the retries of one cluster so retries cannot multiply an outage (Finagle's and Envoy's
 * retry budget): over a sliding window, retries may be at most {@code ratio} of the requests, but
 * at least {@code minPerSecond} per second so a quiet cluster can still retry.
 *
 * <p>The window is a ring of one-second buckets updated with atomics from every event loop, no
 * locks. Two loops that roll the same bucket over at once may lose a count; the budget is a
 * safety valve, not an accounting ledger, so that is cheaper than a lock.
 */
public final class RetryBudget {
  /** Retries at most 20% of requests, at least 3 per second, over 10 s: Envoy's and Linkerd's defaults. */
  public static final double DEFAULT_RATIO = 0.2;
  public static final int DEFAULT_MIN_PER_SECOND = 3;
  public static final int DEFAULT_WINDOW_SECONDS = 10;

  private static final long BUCKET_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final double ratio;
  private final int minPerSecond;
  private final int buckets;
  /** Index of the second each bucket currently counts; Long.MIN_VALUE when never used. */
  private final AtomicLongArray stamps;
  private final AtomicLongArray requests;
  private final AtomicLongArray retries;
  private final AtomicLong denied = new AtomicLong();

  public RetryBudget(double ratio, int minPerSecond, int windowSeconds) {
    if (!(ratio >= 0 && ratio <= 1)) {
      throw new IllegalArgumentException("ratio: " + ratio + " (expected: 0..1)");
    }
    if (minPerSecond < 0) {
      throw new IllegalArgumentException("minPerSecond: " + minPerSecond + " (expected: >= 0)");
    }
    if (windowSeconds < 1) {
      throw new IllegalArgumentException("windowSeconds: " + windowSeconds + " (expected: >= 1)");
    }
    this.ratio = ratio;
    this.minPerSecond = minPerSecond;
    this.buckets = windowSeconds;
    this.stamps = new AtomicLongArray(windowSeconds);
    this.requests = new AtomicLongArray(windowSeconds);
    this.retries = new AtomicLongArray(windowSeconds);
    for (int i = 0; i < windowSeconds; i++) {
      stamps.set(i, Long.MIN_VALUE);
    }
  }

  /** The default budget: 20% of requests, at least 3 retries per second, over 10 s. */
  public static RetryBudget defaults() {
    return new RetryBudget(DEFAULT_RATIO, DEFAULT_MIN_PER_SECOND, DEFAULT_WINDOW_SECONDS);
  }

  /** Counts a first try (never a retry). */
  public void onRequest(long nowNanos) {
    requests.incrementAndGet(bucket(nowNanos));
  }

  /**
   * Takes one retry from the budget if there is room: {@code true} means retry (and it is counted),
   * {@code false} means answer with the failure at hand.
   */
  public boolean tryRetry(long nowNanos) {
    int b = bucket(nowNanos);
    long second = Math.floorDiv(nowNanos, BUCKET_NANOS);
    long reqs = 0;
    long tries = 0;
    for (int i = 0; i < buckets; i++) {
      long stamp = stamps.get(i);
      if (stamp != Long.MIN_VALUE && second - stamp < buckets) {
        reqs += requests.get(i);
        tries += retries.get(i);
      }
    }
    long allowed = Math.max((long) minPerSecond * buckets, (long) Math.floor(reqs * ratio));
    if (tries >= allowed) {
      denied.incrementAndGet();
      return false;
    }
    retries.incrementAndGet(b);
    return true;
  }

  /** Retries refused so far, for metrics and tests. */
  public long denied() {
    return denied.get();
  }

  /** The bucket of {@code nowNanos}, cleared first if it still counts an older second. */
  private int bucket(long nowNanos) {
    long second = Math.floorDiv(nowNanos, BUCKET_NANOS);
    int i = (int) Math.floorMod(second, (long) buckets);
    long stamp = stamps.get(i);
    if (stamp != second && stamps.compareAndSet(i, stamp, second)) {
      requests.set(i, 0);
      retries.set(i, 0);
    }
    return i;
  }
}
