package io.gatehouse.upstream;

import java.util.Random;

/**
 * Consistent hashing over a shared {@link MaglevTable}. When the key's endpoint is unusable
 * (down, drained, ejected, or already tried by this request) it walks the following slots to the
 * next distinct usable endpoint; Maglev slots are scattered, so one endpoint's keys spread over
 * all the others instead of all landing on a single neighbour as on a ring.
 */
final class ConsistentHashBalancer implements LoadBalancer {
  private final MaglevTable table;
  private final Endpoint[] endpoints;
  private final Random random;
  /** Which endpoints this walk has checked; event-loop confined (see {@link LoadBalancer}). */
  private final int[] seen;
  private int stamp;

  ConsistentHashBalancer(MaglevTable table, Random random) {
    this.table = table;
    this.endpoints = table.endpoints().toArray(new Endpoint[0]);
    this.random = random;
    this.seen = new int[endpoints.length];
  }

  @Override
  public Endpoint pick(PickContext ctx) {
    int size = table.size();
    if (size == 0) {
      return null;
    }
    String key = ctx.hashKey();
    // No key (e.g. the header is missing): any endpoint will do, so spread such requests.
    long h = key == null ? random.nextLong() : Hashing.hash(key);
    int slot = (int) Long.remainderUnsigned(h, size);
    int idx = table.owner(slot);
    if (endpoints[idx].usableFor(ctx)) {
      return endpoints[idx];
    }
    if (++stamp == 0) {
      java.util.Arrays.fill(seen, 0);
      stamp = 1;
    }
    seen[idx] = stamp;
    int checked = 1;
    for (int k = 1; k < size && checked < table.distinct(); k++) {
      int s = slot + k;
      if (s >= size) {
        s -= size;
      }
      idx = table.owner(s);
      if (seen[idx] == stamp) {
        continue;
      }
      seen[idx] = stamp;
      checked++;
      if (endpoints[idx].usableFor(ctx)) {
        return endpoints[idx];
      }
    }
    return null;
  }
}
