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
 * @param pingInterval HTTP/2 clusters: a connection with open streams that has read nothing for this
 *     long is sent a PING; {@link Duration#ZERO} (the default) sends none
 * @param pingTimeout HTTP/2 clusters: how long a PING may go without any frame read back before the
 *     connection is taken for dead and closed
 */
public record PoolConfig(int maxConnections, Duration maxIdleTime, int maxConnectionsPerEndpoint,
    Duration pingInterval, Duration pingTimeout) {
  public static final int NO_LIMIT = 0;
  public static final Duration DEFAULT_PING_TIMEOUT = Duration.ofSeconds(10);
  public static final PoolConfig DEFAULT =
      new PoolConfig(NO_LIMIT, Duration.ofSeconds(60), NO_LIMIT, Duration.ZERO, DEFAULT_PING_TIMEOUT);

  public PoolConfig(int maxConnections, Duration maxIdleTime, int maxConnectionsPerEndpoint) {
    this(maxConnections, maxIdleTime, maxConnectionsPerEndpoint, Duration.ZERO, DEFAULT_PING_TIMEOUT);
  }

  public PoolConfig(int maxConnections, Duration maxIdleTime) {
    this(maxConnections, maxIdleTime, NO_LIMIT);
  }
}
