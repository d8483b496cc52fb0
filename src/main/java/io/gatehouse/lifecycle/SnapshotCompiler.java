package io.gatehouse.lifecycle;

import io.gatehouse.config.BackendRef;
import io.gatehouse.config.BalancerKind;
import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.EndpointConfig;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.HashOnConfig;
import io.gatehouse.config.HostPort;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.config.ListenerMode;
import io.gatehouse.config.RateLimitConfig;
import io.gatehouse.config.RouteConfig;
import io.gatehouse.deploy.Split;
import io.gatehouse.deploy.Sticky;
import io.gatehouse.forward.ForwardSettings;
import io.gatehouse.pool.PeerSpec;
import io.gatehouse.pool.UpstreamTls;
import io.gatehouse.ratelimit.Limiter;
import io.gatehouse.ratelimit.RateLimiter;
import io.gatehouse.reverse.ClusterRuntime;
import io.gatehouse.reverse.CohortSplit;
import io.gatehouse.reverse.RequestKey;
import io.gatehouse.reverse.RetryPolicy;
import io.gatehouse.reverse.ReverseRouting;
import io.gatehouse.reverse.Route;
import io.gatehouse.reverse.RouteTable;
import io.gatehouse.upstream.AdminState;
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
import java.util.function.BiFunction;
import java.util.function.LongSupplier;

/**
 * The one compiler of a generation: (validated config, runtime overrides) -> an immutable
 * {@link Snapshot}. Compiles what the request path would otherwise interpret per request (retry
 * policies, rate-limit and hash keys, peer specs). Long-lived per-key state (retry budgets and
 * breakers per cluster, limiter buckets per route) is kept in registries here, so a new generation
 * reuses it: a weight change or a reload neither refills a retry budget nor resets rate limits.
 * Called by one thread at a time (the change lock of {@link Generations}).
 */
final class SnapshotCompiler {
  private final EndpointRegistry endpoints;
  private final List<EventLoop> loops;
  private final LongSupplier clock;
  private final UpstreamTlsContexts upstreamTls = new UpstreamTlsContexts();
  private final Map<String, RetryBudget> budgets = new HashMap<>();
  private final Map<String, CircuitBreaker> breakers = new HashMap<>();
  /** Buckets per route, kept while the route's limit stays the same. */
  private final Map<String, KeptLimiter> limiters = new HashMap<>();
  /** Builds a route's limiter: local here, or counted in the fleet's Redis (see {@link FleetMember#limiter}). */
  private final BiFunction<String, RateLimitConfig, Limiter> limiterFactory;

  private record KeptLimiter(RateLimitConfig config, Limiter limiter) {}

  SnapshotCompiler(EndpointRegistry endpoints, List<EventLoop> loops, LongSupplier clock) {
    this(endpoints, loops, clock, (route, rl) -> new RateLimiter(rl.perSecond(), rl.burst()));
  }

  SnapshotCompiler(EndpointRegistry endpoints, List<EventLoop> loops, LongSupplier clock,
      BiFunction<String, RateLimitConfig, Limiter> limiterFactory) {
    this.endpoints = endpoints;
    this.loops = loops;
    this.clock = clock;
    this.limiterFactory = limiterFactory;
  }

  /**
   * @param forward the forward listeners' settings, compiled by {@link ForwardListeners#compile}
   *     on a reload (they read files) and carried over unchanged by a runtime change
   * @param listeners every listener's settings, compiled by {@link ListenerCompiler} on a reload
   *     (TLS files) and carried over unchanged by a runtime change
   */
  Snapshot compile(long generation, GatehouseConfig config, Overrides overrides, Map<String, ForwardSettings> forward,
      Map<ListenerKey, CompiledListener> listeners) {
    Map<String, ClusterRuntime> clusters = new LinkedHashMap<>();
    for (ClusterConfig cluster : config.clusters()) {
      RetryBudget budget = budgets.computeIfAbsent(cluster.name(), n -> RetryBudget.defaults());
      CircuitBreaker breaker = breakers.computeIfAbsent(cluster.name(), n -> new CircuitBreaker(0));
      breaker.setMaxInFlight(cluster.circuitBreaker().maxInFlight());
      clusters.put(cluster.name(), new ClusterRuntime(
          Cluster.create(cluster, endpoints, clock, cluster.slowStart()), loops, budget, breaker,
          peers(cluster), cluster.timeouts().response().toNanos(), hashKey(cluster)));
    }
    budgets.keySet().retainAll(clusters.keySet());
    breakers.keySet().retainAll(clusters.keySet());
    Map<String, List<Route>> routesByListener = new HashMap<>();
    for (ListenerConfig listener : config.listeners()) {
      if (listener.mode() == ListenerMode.REVERSE) {
        routesByListener.put(listener.name(), new ArrayList<>());
      }
    }
    Map<String, Limiter> usedLimiters = new HashMap<>();
    for (RouteConfig rc : config.routes()) {
      Overrides.Weights weights = overrides.weights().get(rc.name());
      List<BackendRef> backends = weights == null ? rc.backends() : weights.backends();
      Route route = compileRoute(rc, backends, clusters, limiter(rc, usedLimiters),
          cohorts(weights == null ? null : weights.split()));
      List<String> targets = rc.listeners().isEmpty() ? List.copyOf(routesByListener.keySet()) : rc.listeners();
      for (String listener : targets) {
        routesByListener.computeIfAbsent(listener, k -> new ArrayList<>()).add(route);
      }
    }
    limiters.keySet().retainAll(usedLimiters.keySet());
    Map<String, RouteTable> tables = new HashMap<>();
    routesByListener.forEach((listener, routes) -> tables.put(listener, new RouteTable(routes)));
    return new Snapshot(generation, config, overrides, new ReverseRouting(Map.copyOf(tables)),
        Map.copyOf(clusters), adminStates(config, overrides), forward, listeners);
  }

  /**
   * Admin state per address: an address is one server, so when it is a member of two clusters the
   * strictest override of either applies (disabled > draining > active).
   */
  private static Map<HostPort, AdminState> adminStates(GatehouseConfig config, Overrides overrides) {
    Map<HostPort, AdminState> states = new HashMap<>();
    for (ClusterConfig cluster : config.clusters()) {
      for (EndpointConfig e : cluster.endpoints()) {
        AdminState wanted = overrides.endpoints().getOrDefault(
            new Overrides.EndpointKey(cluster.name(), e.address()), AdminState.ACTIVE);
        states.merge(e.address(), wanted, (a, b) -> a.ordinal() >= b.ordinal() ? a : b);
      }
    }
    return Map.copyOf(states);
  }

  private Map<HostPort, PeerSpec> peers(ClusterConfig cluster) {
    UpstreamTls tls = upstreamTls.forCluster(cluster.tls(), cluster.http2());
    Map<HostPort, PeerSpec> peers = new HashMap<>();
    for (EndpointConfig e : cluster.endpoints()) {
      peers.put(e.address(), new PeerSpec(e.address(), tls, cluster.pool().maxConnections(),
          cluster.circuitBreaker().maxPending(), cluster.pool().maxIdleTime().toNanos(),
          cluster.timeouts().connect().toNanos(), cluster.proxyProtocol(), cluster.pool().maxConnectionsPerEndpoint(),
          cluster.http2(), cluster.pool().pingInterval().toNanos(), cluster.pool().pingTimeout().toNanos()));
    }
    return peers;
  }

  private static RequestKey hashKey(ClusterConfig cluster) {
    if (cluster.balancer() != BalancerKind.CONSISTENT_HASH) {
      return null;
    }
    HashOnConfig hashOn = cluster.hashOn();
    switch (hashOn.source()) {
      case HEADER:
        return RequestKey.header(hashOn.name());
      case COOKIE:
        return RequestKey.cookie(hashOn.name());
      default:
        return RequestKey.clientIp();
    }
  }

  private Limiter limiter(RouteConfig rc, Map<String, Limiter> used) {
    if (rc.rateLimit() == null) {
      return null;
    }
    KeptLimiter kept = limiters.get(rc.name());
    if (kept == null || !kept.config().equals(rc.rateLimit())) {
      kept = new KeptLimiter(rc.rateLimit(), limiterFactory.apply(rc.name(), rc.rateLimit()));
      limiters.put(rc.name(), kept);
    }
    used.put(rc.name(), kept.limiter());
    return kept.limiter();
  }

  private static RequestKey rateKey(RouteConfig rc) {
    String key = rc.rateLimit().key();
    if ("route".equals(key)) {
      return RequestKey.constant(rc.name());
    }
    if (key.startsWith("header:")) {
      return RequestKey.header(key.substring("header:".length()));
    }
    return RequestKey.clientIp();
  }

  /** A deployment step's sticky rule, compiled; null when the route is not split with sticky cohorts. */
  private static CohortSplit cohorts(Split split) {
    if (split == null || split.sticky() == null) {
      return null;
    }
    Sticky sticky = split.sticky();
    return switch (sticky.kind()) {
      case COOKIE -> CohortSplit.cookie(split.deployment(), split.target(), sticky.name());
      case HEADER -> CohortSplit.hashed(split.deployment(), split.target(), RequestKey.header(sticky.name()));
      case CLIENT_ADDRESS -> CohortSplit.hashed(split.deployment(), split.target(), RequestKey.clientIp());
    };
  }

  private static Route compileRoute(RouteConfig rc, List<BackendRef> refs, Map<String, ClusterRuntime> clusters,
      Limiter limiter, CohortSplit cohorts) {
    List<Route.WeightedCluster> backends = new ArrayList<>();
    int total = 0;
    for (BackendRef ref : refs) {
      if (ref.weight() > 0 && clusters.containsKey(ref.cluster())) { // overrides are reconciled; belt and braces
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
        rc.retries() == null ? RetryPolicy.DEFAULT : RetryPolicy.compile(rc.retries()),
        limiter,
        limiter == null ? null : rateKey(rc),
        cohorts);
  }
}
