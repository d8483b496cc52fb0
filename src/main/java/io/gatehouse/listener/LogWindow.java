package io.gatehouse.listener;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * One log line per interval for a kind of routine event (a failed TLS handshake, a failed accept);
 * the events in between are only counted, and the next line says how many. Thread-safe, lock-free.
 */
final class LogWindow {
  private final LongSupplier clock;
  private final long intervalNanos;
  private final AtomicLong nextLog;
  private final AtomicLong suppressed = new AtomicLong();

  LogWindow(LongSupplier clock, long intervalNanos) {
    this.clock = clock;
    this.intervalNanos = intervalNanos;
    this.nextLog = new AtomicLong(clock.getAsLong());
  }

  /** The number suppressed since the last line when this event may be logged, else -1. */
  long admit() {
    long now = clock.getAsLong();
    long next = nextLog.get();
    if (now - next >= 0 && nextLog.compareAndSet(next, now + intervalNanos)) {
      return suppressed.getAndSet(0);
    }
    suppressed.incrementAndGet();
    return -1;
  }

  /** {@code " (+N suppressed)"} for a line that follows suppressed events, else empty. */
  static String more(long suppressed) {
    return suppressed == 0 ? "" : " (+" + suppressed + " suppressed)";
  }
}
