package io.gatehouse.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Several instances sharing state through Redis (the {@code fleet} section). Absent (null in
 * {@link GatehouseConfig}) for a single instance, which then needs nothing but itself.
 *
 * @param redis where Redis is: {@code redis://host:port[/db]}, or {@code rediss://} for TLS
 * @param username the ACL user (Redis 6+); null for the default user
 * @param password null when Redis asks for none; redacted in {@code GET /api/v1/config}
 * @param instance this instance's name in the fleet; unique per instance (default: the host name)
 * @param name the fleet's name: the Redis key space ({@code gatehouse:{name}:...}), so several
 *     fleets can share one Redis
 * @param heartbeat how often this instance says it is alive (and re-reads the fleet's state)
 * @param timeout connect and command timeout: past it, Redis counts as down for that call
 * @param expectedInstances how many instances the fleet runs, for an instance that never saw the
 *     fleet's heartbeats: a fleet rate limit with {@code onStoreDown: local} then admits
 *     limit/expectedInstances on it while Redis is down (otherwise: limit/the live instances)
 * @param tls for {@code rediss://}: what to trust and which client certificate to show; null for the
 *     JVM's trust store and no client certificate
 */
public record FleetConfig(
    RedisAddress redis,
    String username,
    String password,
    String instance,
    String name,
    Duration heartbeat,
    Duration timeout,
    int expectedInstances,
    Tls tls) {

  static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(1);
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);
  static final String DEFAULT_NAME = "default";

  /**
   * TLS to Redis beyond the defaults: a private CA (Redis deployments mostly use one) and a client
   * certificate for Redis's {@code tls-auth-clients yes} (its default).
   *
   * @param ca PEM certificates trusted for the server's certificate; null for the JVM's trust store
   * @param cert PEM client certificate chain, with {@code key}; null for none
   * @param key PEM (PKCS#8) private key of {@code cert}
   */
  public record Tls(Path ca, Path cert, Path key) {}

  /** A parsed {@code redis://} or {@code rediss://} address; its text is what the file said. */
  public record RedisAddress(boolean tls, String host, int port, int database) {
    @Override
    public String toString() {
      String h = host.contains(":") ? "[" + host + "]" : host;
      return (tls ? "rediss://" : "redis://") + h + ":" + port + (database == 0 ? "" : "/" + database);
    }
  }
}
