package io.gatehouse.config;

import java.nio.file.Path;
import java.util.List;

/**
 * Root of a validated configuration. Immutable; produced only by {@link ConfigLoader} after every
 * check has passed, so runtime code may trust every field (defaults already applied).
 *
 * @param source the file it came from, or {@code null} for the embedded default
 * @param state where runtime overrides persist; never null
 * @param handoff where this instance hands its listening sockets to a successor; never null
 * @param fleet the Redis shared by several instances; null for a single instance
 */
public record GatehouseConfig(
    Path source,
    AdminConfig admin,
    List<ListenerConfig> listeners,
    List<RouteConfig> routes,
    List<ClusterConfig> clusters,
    LimitsConfig limits,
    AccessLogConfig accessLog,
    StateConfig state,
    HandoffConfig handoff,
    FleetConfig fleet) {

  public GatehouseConfig {
    listeners = List.copyOf(listeners);
    routes = List.copyOf(routes);
    clusters = List.copyOf(clusters);
  }
}
