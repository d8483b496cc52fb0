package io.gatehouse.config;

/**
 * Per-cluster overload limits; past them the proxy answers 503 at once instead of queueing.
 *
 * @param maxInFlight requests in flight to the whole cluster; 0 = no limit
 * @param maxPending requests waiting for a connection, per event loop and endpoint (the pool's
 *     queue, next to {@code pool.maxConnections}); 0 = {@code 4 x pool.maxConnections}
 */
public record CircuitBreakerConfig(int maxInFlight, int maxPending) {
  public static final CircuitBreakerConfig DEFAULT = new CircuitBreakerConfig(0, 0);
}
