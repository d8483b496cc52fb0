package io.gatehouse.config;

import java.time.Duration;
import java.util.List;

/**
 * A group of interchangeable upstream endpoints.
 *
 * @param hashOn key of {@code consistent_hash}; never null (defaults to client IP)
 * @param healthCheck {@code null} when no active checks are configured
 * @param outlier {@code null} when passive outlier detection is off
 * @param tls {@code null} for plain HTTP to the endpoints
 * @param slowStart ramp-up window of an endpoint coming (back) into service; {@code ZERO} = off
 * @param circuitBreaker overload limits; never null
 * @param proxyProtocol the PROXY header each upstream connection opens with; {@code null} = none
 * @param protocol HTTP/1.1 or HTTP/2 to the endpoints; never null
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
    UpstreamTlsConfig tls,
    Duration slowStart,
    CircuitBreakerConfig circuitBreaker,
    ProxyProtocolVersion proxyProtocol,
    UpstreamProtocol protocol) {

  /** HTTP/1.1 to the endpoints. */
  public ClusterConfig(String name, BalancerKind balancer, HashOnConfig hashOn, List<EndpointConfig> endpoints,
      HealthCheckConfig healthCheck, OutlierConfig outlier, PoolConfig pool, TimeoutsConfig timeouts,
      UpstreamTlsConfig tls, Duration slowStart, CircuitBreakerConfig circuitBreaker, ProxyProtocolVersion proxyProtocol) {
    this(name, balancer, hashOn, endpoints, healthCheck, outlier, pool, timeouts, tls, slowStart, circuitBreaker,
        proxyProtocol, UpstreamProtocol.HTTP1);
  }

  /** Without the PROXY protocol towards the endpoints. */
  public ClusterConfig(String name, BalancerKind balancer, HashOnConfig hashOn, List<EndpointConfig> endpoints,
      HealthCheckConfig healthCheck, OutlierConfig outlier, PoolConfig pool, TimeoutsConfig timeouts,
      UpstreamTlsConfig tls, Duration slowStart, CircuitBreakerConfig circuitBreaker) {
    this(name, balancer, hashOn, endpoints, healthCheck, outlier, pool, timeouts, tls, slowStart, circuitBreaker, null);
  }

  public ClusterConfig {
    endpoints = List.copyOf(endpoints);
    slowStart = slowStart == null ? Duration.ZERO : slowStart;
    circuitBreaker = circuitBreaker == null ? CircuitBreakerConfig.DEFAULT : circuitBreaker;
    protocol = protocol == null ? UpstreamProtocol.HTTP1 : protocol;
  }

  /** Whether the endpoints are spoken to in HTTP/2. */
  public boolean http2() {
    return protocol == UpstreamProtocol.H2;
  }
}
