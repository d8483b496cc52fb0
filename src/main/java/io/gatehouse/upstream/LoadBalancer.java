package io.gatehouse.upstream;

import java.util.List;

/** TEMPORARY stub. */
public interface LoadBalancer {
  Endpoint pick(PickContext ctx);
  static LoadBalancer roundRobin(List<Endpoint> endpoints) {
    return new LoadBalancer() {
      int next;
      public Endpoint pick(PickContext ctx) {
        for (int i = 0; i < endpoints.size(); i++) {
          Endpoint e = endpoints.get(Math.floorMod(next++, endpoints.size()));
          if (e.state().isAvailable(ctx.nowNanos()) && !ctx.isExcluded(e)) return e;
        }
        return null;
      }
    };
  }
}
