package io.gatehouse.upstream;

import java.util.concurrent.atomic.AtomicReference;

/**
 * Peak-sensitive, time-decayed moving average of latency, as in Finagle's and Linkerd's
 * {@code PeakEwma}: a sample above the estimate replaces it at once (an endpoint turning slow is
 * penalised immediately), a sample below it is blended in with weight {@code 1 - e^(-dt/tau)},
 * and between samples the estimate decays towards zero, so an idle endpoint that was slow gets
 * probed again instead of being starved forever.
 *
 * <p>Lock-free: one immutable {@link Sample} swapped by CAS, so concurrent event loops never see
 * a value paired with the wrong timestamp.
 */
final class PeakEwma {
  private record Sample(double value, long stampNanos) {}

  private final double tauNanos;
  private final AtomicReference<Sample> current = new AtomicReference<>();

  PeakEwma(long tauNanos) {
    if (tauNanos <= 0) {
      throw new IllegalArgumentException("tau: " + tauNanos + "ns (expected: > 0)");
    }
    this.tauNanos = tauNanos;
  }

  /** Adds one observation taken at {@code nowNanos}. */
  void observe(double valueNanos, long nowNanos) {
    while (true) {
      Sample old = current.get();
      Sample next;
      if (old == null || valueNanos >= old.value) {
        next = new Sample(valueNanos, nowNanos);
      } else {
        double w = decayWeight(old, nowNanos);
        next = new Sample(old.value * w + valueNanos * (1 - w), nowNanos);
      }
      if (current.compareAndSet(old, next)) {
        return;
      }
    }
  }

  /** Whether any sample was ever observed: a fresh endpoint has no opinion yet. */
  boolean hasSamples() {
    return current.get() != null;
  }

  /** The estimate at {@code nowNanos}, decayed for the time since the last sample; 0 without samples. */
  double valueAt(long nowNanos) {
    Sample s = current.get();
    return s == null ? 0 : s.value * decayWeight(s, nowNanos);
  }

  /** The estimate as of the last sample, for admin display. */
  double lastValue() {
    Sample s = current.get();
    return s == null ? 0 : s.value;
  }

  private double decayWeight(Sample s, long nowNanos) {
    long elapsed = Math.max(0, nowNanos - s.stampNanos);
    return Math.exp(-elapsed / tauNanos);
  }
}
