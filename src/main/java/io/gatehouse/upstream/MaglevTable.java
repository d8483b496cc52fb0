package io.gatehouse.upstream;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Maglev lookup table (Eisenbud et al., NSDI 2016, with Envoy's weighting): each endpoint walks
 * its own permutation of the slots, derived only from its address, taking free slots in turns
 * proportional to its weight. Because the permutations depend on addresses alone, adding or
 * removing one of N endpoints changes about 1/N of the slots; lookups are one array read.
 *
 * <p>Immutable once built; one per cluster generation, shared by all event loops. The table size
 * is a prime at least 100 times the endpoint count so shares stay within about 1% of the weights.
 */
final class MaglevTable {
  static final int SMALL_SIZE = 65537;
  static final int LARGE_SIZE = 655373;

  private final List<Endpoint> endpoints;
  /** Slot to index in {@link #endpoints}; length 0 when no endpoint has a positive weight. */
  private final int[] slots;
  private final int distinct;

  private MaglevTable(List<Endpoint> endpoints, int[] slots, int distinct) {
    this.endpoints = endpoints;
    this.slots = slots;
    this.distinct = distinct;
  }

  static MaglevTable build(List<Endpoint> endpoints) {
    List<Endpoint> all = List.copyOf(endpoints);
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i).weight() > 0) {
        order.add(i);
      }
    }
    if (order.isEmpty()) {
      return new MaglevTable(all, new int[0], 0);
    }
    // Config order must not matter: the same set of addresses always gives the same table.
    order.sort(Comparator.comparing(i -> all.get(i).address().toString()));
    int n = order.size();
    int size = (long) n * 100 <= SMALL_SIZE ? SMALL_SIZE : LARGE_SIZE;
    long[] offset = new long[n];
    long[] skip = new long[n];
    long[] next = new long[n];
    double[] share = new double[n];
    double[] credit = new double[n];
    double maxShare = 0;
    double total = 0;
    for (int k = 0; k < n; k++) {
      total += all.get(order.get(k)).weight();
    }
    for (int k = 0; k < n; k++) {
      Endpoint e = all.get(order.get(k));
      long h1 = Hashing.hash(e.address().toString());
      long h2 = Hashing.fmix64(h1 ^ 0x9E3779B97F4A7C15L);
      offset[k] = Long.remainderUnsigned(h1, size);
      skip[k] = Long.remainderUnsigned(h2, size - 1) + 1;
      share[k] = e.weight() / total;
      maxShare = Math.max(maxShare, share[k]);
    }
    int[] slots = new int[size];
    Arrays.fill(slots, -1);
    int filled = 0;
    for (int k = 0; filled < size; k = k + 1 == n ? 0 : k + 1) {
      // Weighted turns: an endpoint fills a slot each time its credit reaches the largest share.
      credit[k] += share[k];
      if (credit[k] < maxShare) {
        continue;
      }
      credit[k] -= maxShare;
      int c;
      do {
        c = (int) ((offset[k] + next[k] * skip[k]) % size);
        next[k]++;
      } while (slots[c] >= 0);
      slots[c] = order.get(k);
      filled++;
    }
    return new MaglevTable(all, slots, n);
  }

  List<Endpoint> endpoints() {
    return endpoints;
  }

  int size() {
    return slots.length;
  }

  /** Endpoints that own at least one slot. */
  int distinct() {
    return distinct;
  }

  /** Index into {@link #endpoints()} of the owner of {@code slot}. */
  int owner(int slot) {
    return slots[slot];
  }
}
