package io.gatehouse.fleet;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One key's permits on this instance for a {@link FleetRateLimiter}: the permits in hand, the
 * lease requests in flight, and this instance's observed request rate for the key (which sizes the
 * next lease and the low-water mark). Touched from every event loop and from Redis client
 * threads: atomics and volatiles, no lock.
 */
final class KeyLease {
  /** The observed rate is re-sampled at most this often. */
  private static final long SAMPLE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  final AtomicInteger permits = new AtomicInteger();
  /** Lease requests in flight, and the permits they asked for. */
  final AtomicInteger inFlight = new AtomicInteger();
  final AtomicInteger asked = new AtomicInteger();
  /** Requests of this key parked until a lease reply arrives. */
  final AtomicInteger waiters = new AtomicInteger();
  /** Completes (and is replaced) at every lease reply: parked requests wait on it. */
  private final AtomicReference<CompletableFuture<Void>> arrival = new AtomicReference<>(new CompletableFuture<>());
  /** Local time before which Redis said no permit fits: refused here without asking. */
  volatile long deniedUntilNanos;
  /**
   * Local time until which the key counts as at the fleet's limit (Redis granted less than asked
   * lately): a request without a permit is refused at once rather than parked for one.
   */
  volatile long saturatedUntilNanos;
  volatile long lastUsedNanos;

  private final AtomicLong decisions = new AtomicLong();
  private final AtomicLong sampleStartNanos;
  private volatile long sampleDecisions;
  /** Requests per second of this key on this instance (admitted or not): its demand. */
  private volatile double perSecond;

  KeyLease(long nowNanos) {
    this.sampleStartNanos = new AtomicLong(nowNanos);
    this.lastUsedNanos = nowNanos;
  }

  /** Counts one request; every {@link #SAMPLE_NANOS} one caller folds the count into the rate. */
  void observe(long nowNanos) {
    lastUsedNanos = nowNanos;
    long count = decisions.incrementAndGet();
    long start = sampleStartNanos.get();
    long elapsed = nowNanos - start;
    if (elapsed >= SAMPLE_NANOS && sampleStartNanos.compareAndSet(start, nowNanos)) {
      double now = (count - sampleDecisions) * 1e9 / elapsed;
      sampleDecisions = count;
      // An average over a few samples: steady under jitter, yet follows a change within ~0.3 s.
      perSecond = perSecond == 0 || elapsed > 10 * SAMPLE_NANOS ? now : 0.5 * perSecond + 0.5 * now;
    }
  }

  double perSecond() {
    return perSecond;
  }

  boolean take() {
    while (true) {
      int p = permits.get();
      if (p <= 0) {
        return false;
      }
      if (permits.compareAndSet(p, p - 1)) {
        return true;
      }
    }
  }

  /** The next reply's signal: read it before trying {@link #take}, so no reply is missed. */
  CompletableFuture<Void> nextArrival() {
    return arrival.get();
  }

  /** A lease reply arrived (its permits already added): parked requests try again. */
  void arrived() {
    arrival.getAndSet(new CompletableFuture<>()).complete(null);
  }

  /** A lease request failed: parked requests go to {@code onStoreDown}. */
  void failed(Throwable cause) {
    arrival.getAndSet(new CompletableFuture<>()).completeExceptionally(cause);
  }
}
