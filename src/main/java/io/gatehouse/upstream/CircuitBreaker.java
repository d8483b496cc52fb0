package io.gatehouse.upstream;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The in-flight request limit of one cluster: past it a request is refused at once (503) instead
 * of queueing, so a slow cluster cannot tie up every client connection (Envoy's
 * {@code max_requests}). Kept across reloads by cluster name, so the count stays true while old
 * and new generations overlap; a reload only changes the limit.
 */
public final class CircuitBreaker {
  private final AtomicInteger inFlight = new AtomicInteger();
  private volatile int maxInFlight;

  /** @param maxInFlight 0 = no limit */
  public CircuitBreaker(int maxInFlight) {
    setMaxInFlight(maxInFlight);
  }

  public void setMaxInFlight(int maxInFlight) {
    if (maxInFlight < 0) {
      throw new IllegalArgumentException("maxInFlight: " + maxInFlight + " (expected: >= 0)");
    }
    this.maxInFlight = maxInFlight;
  }

  /** Admits one request, or returns {@code false} at the limit; pair {@code true} with {@link #release}. */
  public boolean tryAcquire() {
    int max = maxInFlight;
    if (max == 0) {
      inFlight.incrementAndGet();
      return true;
    }
    while (true) {
      int n = inFlight.get();
      if (n >= max) {
        return false;
      }
      if (inFlight.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  public void release() {
    inFlight.decrementAndGet();
  }

  public int inFlight() {
    return inFlight.get();
  }

  public int maxInFlight() {
    return maxInFlight;
  }
}
