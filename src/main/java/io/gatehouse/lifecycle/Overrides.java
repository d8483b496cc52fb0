package io.gatehouse.lifecycle;

import io.gatehouse.config.BackendRef;
import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.RouteConfig;
import io.gatehouse.config.HostPort;
import io.gatehouse.upstream.AdminState;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Set;
import java.util.List;
import java.util.Map;

/**
 * Runtime changes an operator made, layered on the config by the compiler: a route's backend
 * weights, an endpoint's admin state (draining or disabled; active is the absence of an override).
 * Immutable: every change is a new value and a new generation.
 */
record Overrides(Map<String, Weights> weights, Map<EndpointKey, AdminState> endpoints) {
  static final Overrides NONE = new Overrides(Map.of(), Map.of());

  /**
   * A route's backends as the operator set them, and as the file had them then: when the file's
   * backends differ from {@code fileBackends} (a reload or a restart with an edited file), the
   * file changed the same thing and wins.
   *
   * @param split set by a step of a deployment with sticky cohorts (the target and the sticky rule);
   *     null for an operator's weights
   */
  record Weights(List<BackendRef> backends, List<BackendRef> fileBackends, io.gatehouse.deploy.Split split) {
    Weights {
      backends = List.copyOf(backends);
      fileBackends = List.copyOf(fileBackends);
    }

    Weights(List<BackendRef> backends, List<BackendRef> fileBackends) {
      this(backends, fileBackends, null);
    }
  }

  /** An endpoint of a cluster, as the admin API names it. */
  record EndpointKey(String cluster, HostPort address) {
    @Override
    public String toString() {
      return cluster + "/" + address;
    }
  }

  Overrides {
    weights = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(weights));
    endpoints = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(endpoints));
  }

  Overrides withWeights(String route, Weights backends) {
    Map<String, Weights> next = new LinkedHashMap<>(weights);
    next.put(route, backends);
    return new Overrides(next, endpoints);
  }

  Overrides withoutWeights(String route) {
    Map<String, Weights> next = new LinkedHashMap<>(weights);
    next.remove(route);
    return new Overrides(next, endpoints);
  }

  /** {@link AdminState#ACTIVE} removes the override: active is what the config means. */
  Overrides withEndpoint(EndpointKey key, AdminState state) {
    Map<EndpointKey, AdminState> next = new LinkedHashMap<>(endpoints);
    if (state == AdminState.ACTIVE) {
      next.remove(key);
    } else {
      next.put(key, state);
    }
    return new Overrides(weights, next);
  }

  /**
   * The overrides that still apply to {@code config}; each one dropped is reported to
   * {@code dropped}: a route whose backends the file changed since the override (the file wins),
   * or a route, cluster or endpoint the file no longer has.
   */
  Overrides reconcile(GatehouseConfig config, java.util.function.Consumer<String> dropped) {
    Map<String, RouteConfig> routes = new HashMap<>();
    config.routes().forEach(r -> routes.put(r.name(), r));
    Map<String, Set<HostPort>> clusters = new HashMap<>();
    for (ClusterConfig c : config.clusters()) {
      Set<HostPort> members = new HashSet<>();
      c.endpoints().forEach(e -> members.add(e.address()));
      clusters.put(c.name(), members);
    }
    Map<String, Weights> keptWeights = new LinkedHashMap<>();
    weights.forEach((name, w) -> {
      RouteConfig route = routes.get(name);
      if (route == null) {
        dropped.accept("weights of route " + name + ": the route is no longer in the config");
      } else if (!route.backends().equals(w.fileBackends())) {
        dropped.accept("weights of route " + name + ": the config changed its backends, the config wins ("
            + route.backends() + ")");
      } else if (!w.backends().stream().allMatch(b -> clusters.containsKey(b.cluster()))) {
        dropped.accept("weights of route " + name + ": a cluster they name is no longer in the config");
      } else {
        keptWeights.put(name, w);
      }
    });
    Map<EndpointKey, AdminState> keptEndpoints = new LinkedHashMap<>();
    endpoints.forEach((key, state) -> {
      Set<HostPort> members = clusters.get(key.cluster());
      if (members == null || !members.contains(key.address())) {
        dropped.accept("admin state " + state + " of " + key + ": the endpoint is no longer in the config");
      } else {
        keptEndpoints.put(key, state);
      }
    });
    return new Overrides(keptWeights, keptEndpoints);
  }

  boolean isEmpty() {
    return weights.isEmpty() && endpoints.isEmpty();
  }
}
