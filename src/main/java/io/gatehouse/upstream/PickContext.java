package io.gatehouse.upstream;

import io.gatehouse.config.HostPort;
import java.util.Set;

/** What a balancer needs to know about the request it picks for. */
public interface PickContext {

  /** Client IP, header or cookie value chosen by {@code hashOn}; {@code null} when absent. */
  String hashKey();

  /** Endpoints this request already tried, so retries go elsewhere. */
  boolean isExcluded(Endpoint e);

  /** The caller's clock; balancers never read time themselves, so tests control it. */
  long nowNanos();

  static PickContext of(String hashKey, long nowNanos) {
    return new Simple(hashKey, nowNanos, Set.of());
  }

  /** Excludes by address rather than by {@link Endpoint}, so a reload between tries is harmless. */
  static PickContext of(String hashKey, long nowNanos, Set<HostPort> excluded) {
    return new Simple(hashKey, nowNanos, Set.copyOf(excluded));
  }

  record Simple(String hashKey, long nowNanos, Set<HostPort> excluded) implements PickContext {
    @Override
    public boolean isExcluded(Endpoint e) {
      return !excluded.isEmpty() && excluded.contains(e.address());
    }
  }
}
