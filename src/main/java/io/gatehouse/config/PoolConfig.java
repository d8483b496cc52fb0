package io.gatehouse.config;

import java.time.Duration;

/**
 * Upstream connection pool per (event loop, endpoint).
 *
 * @param maxConnections connections per event loop and endpoint; 0 = no limit (the default, as for
 *     HAProxy's servers: a small cap lets a few slow clients, each holding a connection, make every
 *     other request to the cluster wait and fail)
 * @param maxConnectionsPerEndpoint connections per endpoint over every event loop; 0 = no limit.
 *     Without it they grow as event loops x endpoints
 */
public record PoolConfig(int maxConnections, Duration maxIdleTime, int maxConnectionsPerEndpoint) {
  public static final int NO_LIMIT = 0;
  public static final PoolConfig DEFAULT = new PoolConfig(NO_LIMIT, Duration.ofSeconds(60), NO_LIMIT);

  public PoolConfig(int maxConnections, Duration maxIdleTime) {
    this(maxConnections, maxIdleTime, NO_LIMIT);
  }
}
