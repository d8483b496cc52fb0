package io.gatehouse.config;

import java.util.List;

/**
 * A group of interchangeable upstream endpoints.
 *
 * @param hashOn key of {@code consistent_hash}; never null (defaults to client IP)
 * @param healthCheck {@code null} when no active checks are configured
 * @param outlier {@code null} when passive outlier detection is off
 * @param tls {@code null} for plain HTTP to the endpoints
 */
public record ClusterConfig(
    String name,
    BalancerKind balancer,
    HashOnConfig hashOn,
    List<EndpointConfig> endpoints,
    HealthCheckConfig healthCheck,
    OutlierConfig outlier,
    PoolConfig pool,
    TimeoutsConfig timeouts,
    UpstreamTlsConfig tls) {

  public ClusterConfig {
    endpoints = List.copyOf(endpoints);
  }
}
