package io.gatehouse.upstream;

import java.util.List;
import java.util.Random;

/**
 * Power of two choices (Mitzenmacher): draw two distinct usable endpoints at random and send to
 * the cheaper. Nearly as good as scanning for the global minimum, O(1), and it does not herd
 * every event loop onto the same "best" endpoint the way a full scan on stale counters does.
 */
final class TwoChoicesBalancer implements LoadBalancer {
  private final Endpoint[] endpoints;
  private final Random random;
  private final Costs.Cost cost;
  /** Scratch for the slow path; event-loop confined (see {@link LoadBalancer}). */
  private final int[] usable;

  TwoChoicesBalancer(List<Endpoint> endpoints, Random random, Costs.Cost cost) {
    this.endpoints = endpoints.toArray(new Endpoint[0]);
    this.random = random;
    this.cost = cost;
    this.usable = new int[this.endpoints.length];
  }

  @Override
  public Endpoint pick(PickContext ctx) {
    int n = endpoints.length;
    if (n == 0) {
      return null;
    }
    if (n >= 2) {
      // Fast path: both draws usable, which is the common case. Conditioned on that, the pair is
      // uniform over usable pairs, exactly what the slow path would draw.
      int i = random.nextInt(n);
      int j = random.nextInt(n - 1);
      if (j >= i) {
        j++;
      }
      if (endpoints[i].usableFor(ctx) && endpoints[j].usableFor(ctx)) {
        return cheaper(endpoints[i], endpoints[j], ctx.nowNanos());
      }
    }
    int m = 0;
    for (int k = 0; k < n; k++) {
      if (endpoints[k].usableFor(ctx)) {
        usable[m++] = k;
      }
    }
    if (m == 0) {
      return null;
    }
    if (m == 1) {
      return endpoints[usable[0]];
    }
    int i = random.nextInt(m);
    int j = random.nextInt(m - 1);
    if (j >= i) {
      j++;
    }
    return cheaper(endpoints[usable[i]], endpoints[usable[j]], ctx.nowNanos());
  }

  private Endpoint cheaper(Endpoint a, Endpoint b, long now) {
    // On a tie the first draw wins, and the draw order is random: the tie-break is random.
    return cost.of(b, a, now) < cost.of(a, b, now) ? b : a;
  }
}
