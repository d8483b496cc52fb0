package io.gatehouse.reverse;

import io.gatehouse.ratelimit.Limiter;
import java.util.List;

/**
 * A compiled route: what it matches and where it sends. Immutable; part of one config generation.
 *
 * @param host exact host, {@code *.suffix}, or null for any
 * @param hostRewrite Host sent upstream, or null to keep the client's
 * @param responseTimeoutNanos 0 = the cluster's
 * @param rateLimiter null when the route is not limited
 * @param rateLimitKey what the limiter counts by; null when the route is not limited
 * @param cohorts sticky cohorts of a deployment that splits the route now; null otherwise
 */
public record Route(
    String name,
    String host,
    String pathPrefix,
    List<WeightedCluster> backends,
    int totalWeight,
    String hostRewrite,
    long responseTimeoutNanos,
    RetryPolicy retries,
    Limiter rateLimiter,
    RequestKey rateLimitKey,
    CohortSplit cohorts) {

  /** A cluster a route sends to and its share. */
  public record WeightedCluster(ClusterRuntime cluster, int weight) {}

  /** Picks a backend cluster by weight (blue/green, canary); {@code roll} is uniform in [0, totalWeight). */
  ClusterRuntime pickCluster(int roll) {
    if (backends.size() == 1) {
      return backends.get(0).cluster();
    }
    for (WeightedCluster backend : backends) {
      roll -= backend.weight();
      if (roll < 0) {
        return backend.cluster();
      }
    }
    return backends.get(backends.size() - 1).cluster();
  }
}
