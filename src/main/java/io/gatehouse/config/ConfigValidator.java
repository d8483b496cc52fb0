package io.gatehouse.config;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * Checks that need more than one section: unique names, distinct bind addresses, and that routes
 * name existing reverse listeners and existing clusters. Runs even when binding found problems,
 * tolerating the nulls those left behind, so one run reports everything.
 */
final class ConfigValidator {
  private final GatehouseConfig config;
  private final Problems problems;

  ConfigValidator(GatehouseConfig config, Problems problems) {
    this.config = config;
    this.problems = problems;
  }

  void validate() {
    uniqueNames("listeners", config.listeners(), ListenerConfig::name);
    uniqueNames("routes", config.routes(), RouteConfig::name);
    uniqueNames("clusters", config.clusters(), ClusterConfig::name);
    distinctBinds();
    routeReferences();
    duplicateMatches();
    fleetLimits();
  }

  /** A limit counted in the fleet's Redis needs the fleet section that says where Redis is. */
  private void fleetLimits() {
    if (config.fleet() != null) {
      return;
    }
    for (int i = 0; i < config.routes().size(); i++) {
      RateLimitConfig limit = config.routes().get(i).rateLimit();
      if (limit != null && limit.scope() == RateLimitConfig.Scope.FLEET) {
        problems.at(Paths.child(Paths.child(Paths.index("routes", i), "rateLimit"), "scope"),
            "fleet without a fleet section (expected: a fleet: { redis: ... } section, or scope: local)");
      }
    }
  }

  private <T> void uniqueNames(String section, List<T> items, Function<T, String> name) {
    Map<String, Integer> first = new HashMap<>();
    for (int i = 0; i < items.size(); i++) {
      String n = name.apply(items.get(i));
      if (n == null) {
        continue;
      }
      Integer previous = first.putIfAbsent(n, i);
      if (previous != null) {
        problems.at(Paths.child(Paths.index(section, i), "name"),
            "duplicate name '" + n + "' (already used by " + Paths.index(section, previous) + ")");
      }
    }
  }

  /** Two listeners (or a listener and admin) on one port would fail at bind time; port 0 never clashes. */
  private void distinctBinds() {
    List<ListenerConfig> listeners = config.listeners();
    for (int i = 0; i < listeners.size(); i++) {
      HostPort bind = listeners.get(i).bind();
      if (bind == null) {
        continue;
      }
      for (int j = 0; j < i; j++) {
        if (clash(bind, listeners.get(j).bind())) {
          problems.at(Paths.child(Paths.index("listeners", i), "bind"),
              bind + " is already used by listeners[" + j + "] (expected: a distinct address)");
        }
      }
      if (clash(bind, config.admin().bind())) {
        problems.at(Paths.child(Paths.index("listeners", i), "bind"),
            bind + " is already used by admin.bind (expected: a distinct address)");
      }
    }
  }

  private static boolean clash(HostPort a, HostPort b) {
    if (b == null || a.port() == 0 || a.port() != b.port()) {
      return false;
    }
    return a.host().equals(b.host()) || Addresses.isWildcard(a.host()) || Addresses.isWildcard(b.host());
  }

  private void routeReferences() {
    Map<String, ListenerMode> modes = new HashMap<>();
    for (ListenerConfig l : config.listeners()) {
      if (l.name() != null) {
        modes.putIfAbsent(l.name(), l.mode());
      }
    }
    boolean anyReverse = modes.containsValue(ListenerMode.REVERSE);
    Set<String> clusters = new HashSet<>();
    config.clusters().forEach(c -> clusters.add(c.name()));
    for (int i = 0; i < config.routes().size(); i++) {
      RouteConfig route = config.routes().get(i);
      String path = Paths.index("routes", i);
      if (route.listeners().isEmpty() && !anyReverse) {
        problems.at(path, "no reverse listener to serve this route (expected: a listener with mode: reverse)");
      }
      for (int j = 0; j < route.listeners().size(); j++) {
        String name = route.listeners().get(j);
        String at = Paths.index(Paths.child(path, "listeners"), j);
        if (!modes.containsKey(name)) {
          problems.at(at, "unknown listener '" + name + "' (expected one of: " + String.join(", ", sorted(modes.keySet())) + ")");
        } else if (modes.get(name) == ListenerMode.FORWARD) {
          problems.at(at, "listener '" + name + "' has mode forward (expected: a reverse listener)");
        }
      }
      for (int j = 0; j < route.backends().size(); j++) {
        String cluster = route.backends().get(j).cluster();
        if (cluster != null && !clusters.contains(cluster)) {
          problems.at(Paths.child(Paths.index(Paths.child(path, "backends"), j), "cluster"),
              "unknown cluster '" + cluster + "' (expected one of: " + String.join(", ", sorted(clusters)) + ")");
        }
      }
    }
  }

  /** A route whose match equals an earlier one on a shared listener could never be chosen. */
  private void duplicateMatches() {
    List<RouteConfig> routes = config.routes();
    for (int i = 0; i < routes.size(); i++) {
      for (int j = 0; j < i; j++) {
        RouteConfig a = routes.get(i);
        RouteConfig b = routes.get(j);
        if (Objects.equals(a.match(), b.match()) && shareListener(a, b)) {
          problems.at(Paths.index("routes", i), "same match as routes[" + j + "] on the same listener"
              + " (expected: a distinct host or pathPrefix)");
          break;
        }
      }
    }
  }

  private static boolean shareListener(RouteConfig a, RouteConfig b) {
    return a.listeners().isEmpty() || b.listeners().isEmpty()
        || a.listeners().stream().anyMatch(b.listeners()::contains);
  }

  private static List<String> sorted(Set<String> names) {
    return names.stream().filter(Objects::nonNull).sorted().toList();
  }
}
