package io.gatehouse.deploy;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A bounded uniform sample of latencies written from many event loops without locks: Vitter's
 * algorithm R, each writer claiming its index with one atomic increment. Two writers may replace
 * the same slot at once; one of them wins, which keeps the sample uniform enough for a judge.
 */
final class Reservoir {
  private final AtomicLongArray slots;
  private final AtomicLong seen = new AtomicLong();

  Reservoir(int size) {
    slots = new AtomicLongArray(size);
  }

  void add(long value) {
    long n = seen.getAndIncrement();
    if (n < slots.length()) {
      slots.set((int) n, value);
      return;
    }
    long j = ThreadLocalRandom.current().nextLong(n + 1);
    if (j < slots.length()) {
      slots.set((int) j, value);
    }
  }

  long[] values() {
    int n = (int) Math.min(seen.get(), slots.length());
    long[] out = new long[n];
    for (int i = 0; i < n; i++) {
      out[i] = slots.get(i);
    }
    return out;
  }
}
