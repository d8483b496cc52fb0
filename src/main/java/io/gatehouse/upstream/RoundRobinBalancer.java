package io.gatehouse.upstream;

import java.util.List;

/** Each usable endpoint in turn; unusable ones are skipped without losing the rotation. */
final class RoundRobinBalancer implements LoadBalancer {
  private final Endpoint[] endpoints;
  /** Event-loop confined (see {@link LoadBalancer}): a plain field. */
  private int next;

  RoundRobinBalancer(List<Endpoint> endpoints) {
    this.endpoints = endpoints.toArray(new Endpoint[0]);
  }

  @Override
  public Endpoint pick(PickContext ctx) {
    int n = endpoints.length;
    for (int k = 0; k < n; k++) {
      int i = next + k;
      if (i >= n) {
        i -= n;
      }
      Endpoint e = endpoints[i];
      if (e.usableFor(ctx)) {
        next = i + 1 == n ? 0 : i + 1;
        return e;
      }
    }
    return null;
  }
}
