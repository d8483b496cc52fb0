package io.gatehouse.config;

import java.time.Duration;
import java.util.List;

/**
 * A reverse route.
 *
 * @param listeners names of the reverse listeners it serves; empty = every reverse listener
 * @param hostRewrite Host header sent upstream; {@code null} keeps the client's Host
 * @param rateLimit {@code null} when not limited
 * @param timeout whole-response timeout; {@code null} uses the cluster's response timeout
 * @param rollout null: a reload that changes the backends switches at once
 */
public record RouteConfig(
    String name,
    List<String> listeners,
    MatchConfig match,
    List<BackendRef> backends,
    String hostRewrite,
    RateLimitConfig rateLimit,
    Duration timeout,
    RetryConfig retries,
    RolloutConfig rollout) {

  public RouteConfig {
    listeners = List.copyOf(listeners);
    backends = List.copyOf(backends);
  }
}
