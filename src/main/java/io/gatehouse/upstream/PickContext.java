package io.gatehouse.upstream;

import java.util.Set;

/** TEMPORARY stub. */
public interface PickContext {
  String hashKey();
  boolean isExcluded(Endpoint e);
  long nowNanos();
  static PickContext of(String hashKey, long nowNanos) { return of(hashKey, nowNanos, Set.of()); }
  static PickContext of(String hashKey, long nowNanos, Set<Endpoint> excluded) {
    return new PickContext() {
      public String hashKey() { return hashKey; }
      public boolean isExcluded(Endpoint e) { return excluded.contains(e); }
      public long nowNanos() { return nowNanos; }
    };
  }
}
