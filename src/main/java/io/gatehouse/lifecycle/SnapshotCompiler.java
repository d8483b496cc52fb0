package io.gatehouse.lifecycle;

import io.gatehouse.config.BackendRef;
import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.config.ListenerMode;
import io.gatehouse.config.RetryConfig;
import io.gatehouse.config.RouteConfig;
import io.gatehouse.ratelimit.RateLimiter;
import io.gatehouse.reverse.ClusterRuntime;
import io.gatehouse.reverse.ReverseRouting;
import io.gatehouse.reverse.Route;
import io.gatehouse.reverse.RouteTable;
import io.gatehouse.upstream.CircuitBreaker;
import io.gatehouse.upstream.Cluster;
import io.gatehouse.upstream.EndpointRegistry;
import io.gatehouse.upstream.RetryBudget;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/** Validated config -> runtime objects (route tables, clusters with per-loop balancers). */
final class SnapshotCompiler {
  private final EndpointRegistry endpoints;
  private final List<EventLoop> loops;
  private final LongSupplier clock;
  private final UpstreamTlsContexts upstreamTls = new UpstreamTlsContexts();
  /** Per cluster name, across generations; touched by the reloading thread only. */
  private final Map<String, RetryBudget> budgets = new HashMap<>();
  private final Map<String, CircuitBreaker> breakers = new HashMap<>();

  SnapshotCompiler(EndpointRegistry endpoints, List<EventLoop> loops, LongSupplier clock) {
    this.endpoints = endpoints;
    this.loops = loops;
    this.clock = clock;
  }

  Snapshot compile(long generation, GatehouseConfig config) {
    Map<String, ClusterRuntime> clusters = new LinkedHashMap<>();
    for (ClusterConfig cluster : config.clusters()) {
      RetryBudget budget = budgets.computeIfAbsent(cluster.name(), n -> RetryBudget.defaults());
      CircuitBreaker breaker = breakers.computeIfAbsent(cluster.name(), n -> new CircuitBreaker(0));
      breaker.setMaxInFlight(cluster.circuitBreaker().maxInFlight());
      clusters.put(cluster.name(), new ClusterRuntime(
          Cluster.create(cluster, endpoints, clock, cluster.slowStart()), loops, budget, breaker,
          upstreamTls.forCluster(cluster.tls())));
    }
    budgets.keySet().retainAll(clusters.keySet());
    breakers.keySet().retainAll(clusters.keySet());
    Map<String, List<Route>> routesByListener = new HashMap<>();
    for (ListenerConfig listener : config.listeners()) {
      if (listener.mode() == ListenerMode.REVERSE) {
        routesByListener.put(listener.name(), new ArrayList<>());
      }
    }
    for (RouteConfig rc : config.routes()) {
      Route route = compileRoute(rc, clusters);
      List<String> targets = rc.listeners().isEmpty() ? List.copyOf(routesByListener.keySet()) : rc.listeners();
      for (String listener : targets) {
        routesByListener.computeIfAbsent(listener, k -> new ArrayList<>()).add(route);
      }
    }
    Map<String, RouteTable> tables = new HashMap<>();
    routesByListener.forEach((listener, routes) -> tables.put(listener, new RouteTable(routes)));
    return new Snapshot(generation, config, new ReverseRouting(Map.copyOf(tables)), Map.copyOf(clusters));
  }

  private static Route compileRoute(RouteConfig rc, Map<String, ClusterRuntime> clusters) {
    List<Route.WeightedCluster> backends = new ArrayList<>();
    int total = 0;
    for (BackendRef ref : rc.backends()) {
      if (ref.weight() > 0) {
        backends.add(new Route.WeightedCluster(clusters.get(ref.cluster()), ref.weight()));
        total += ref.weight();
      }
    }
    String host = rc.match().host();
    String prefix = rc.match().pathPrefix() == null ? "/" : rc.match().pathPrefix();
    return new Route(
        rc.name(),
        host,
        prefix,
        List.copyOf(backends),
        total,
        rc.hostRewrite(),
        rc.timeout() == null ? 0 : rc.timeout().toNanos(),
        rc.retries() == null ? RetryConfig.DEFAULT : rc.retries(),
        rc.rateLimit() == null ? null : new RateLimiter(rc.rateLimit().perSecond(), rc.rateLimit().burst()),
        rc.rateLimit() == null ? null : rc.rateLimit().key());
  }
}
