package io.gatehouse.config;

import java.time.Duration;

/** Upstream connection pool per (event loop, endpoint). */
public record PoolConfig(int maxConnections, Duration maxIdleTime) {
  public static final PoolConfig DEFAULT = new PoolConfig(256, Duration.ofSeconds(60));
}
