package io.gatehouse.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Binds one entry of {@code routes}. Cluster and listener references are checked by {@link ConfigValidator}. */
final class RouteBinder {
  static final List<String> KEYS = List.of("name", "listeners", "match", "backends", "cluster",
      "hostRewrite", "rateLimit", "timeout", "retries", "rollout");
  private static final String RETRY_ON = "connect-failure, reset, timeout, 5xx or a status code 400..599";

  private RouteBinder() {}

  static RouteConfig bind(YamlNode node, String path, Problems problems, Path baseDir) {
    Section s = Section.of(node, path, problems, baseDir, KEYS);
    String name = s.requiredString("name", "a route name");
    List<String> listeners = s.strings("listeners", "a listener name");
    String hostRewrite = s.has("hostRewrite") ? s.requiredString("hostRewrite", "a host name") : null;
    return new RouteConfig(
        name,
        listeners,
        match(s.section("match", List.of("host", "pathPrefix"))),
        backends(s),
        hostRewrite,
        rateLimit(s.section("rateLimit", List.of("key", "perSecond", "burst", "scope", "onStoreDown", "maxWait"))),
        s.duration("timeout", null),
        retries(s.section("retries", List.of("attempts", "on"))),
        RolloutBinder.bind(s.section("rollout", RolloutBinder.KEYS)));
  }

  private static MatchConfig match(Section s) {
    if (s == null) {
      return new MatchConfig(null, "/");
    }
    String host = s.string("host", null);
    if (host != null) {
      host = host.strip().toLowerCase(Locale.ROOT);
      String problem = Addresses.hostPatternProblem(host);
      if (problem != null) {
        s.problem("host", problem);
      }
    }
    String prefix = s.string("pathPrefix", "/");
    if (!prefix.startsWith("/")) {
      s.problem("pathPrefix", "'" + prefix + "' (expected: a path starting with /)");
    }
    return new MatchConfig(host, prefix);
  }

  /** {@code backends: [{cluster, weight}]}, or the shorthand {@code cluster: NAME} (one backend, weight 1). */
  private static List<BackendRef> backends(Section s) {
    Problems problems = s.problems();
    if (s.has("cluster")) {
      if (s.has("backends")) {
        s.problem("cluster", "both cluster and backends are set (expected: one of them)");
      }
      String cluster = s.requiredString("cluster", "a cluster name");
      problems.alias(Paths.child(Paths.index(s.path("backends"), 0), "cluster"), s.path("cluster"));
      return cluster == null ? List.of() : List.of(new BackendRef(cluster, 1));
    }
    if (!s.has("backends")) {
      s.missing("backends", "a list of {cluster, weight}, or cluster: NAME");
      return List.of();
    }
    List<BackendRef> backends = s.items("backends", List.of(), (n, p) -> {
      Section b = Section.of(n, p, problems, s.baseDir(), List.of("cluster", "weight"));
      return new BackendRef(b.requiredString("cluster", "a cluster name"), b.integer("weight", 1, 0, 1000));
    });
    if (backends.isEmpty()) {
      s.problem("backends", "empty (expected: at least one {cluster, weight})");
    } else if (backends.stream().allMatch(b -> b.weight() == 0)) {
      s.problem("backends", "every weight is 0 (expected: at least one weight > 0)");
    }
    return backends;
  }

  private static RateLimitConfig rateLimit(Section s) {
    if (s == null) {
      return null;
    }
    String key = s.string("key", "clientIp");
    boolean header = key.startsWith("header:") && key.length() > "header:".length();
    if (!key.equals("clientIp") && !key.equals("route") && !header) {
      s.problem("key", "'" + key + "' (expected one of: clientIp, route, header:NAME)");
    }
    double perSecond = 1;
    if (s.has("perSecond")) {
      Double v = Values.positive(s.get("perSecond"), s.path("perSecond"), s.problems());
      perSecond = v == null ? 1 : v;
    } else {
      s.missing("perSecond", "a number > 0");
    }
    int burst = s.integer("burst", (int) Math.ceil(perSecond), 1, Integer.MAX_VALUE);
    RateLimitConfig.Scope scope = s.choice("scope", RateLimitConfig.Scope.LOCAL, RateLimitConfig.Scope.class);
    RateLimitConfig.StoreDown onStoreDown = s.choice("onStoreDown", RateLimitConfig.StoreDown.LOCAL, RateLimitConfig.StoreDown.class);
    for (String fleetOnly : List.of("onStoreDown", "maxWait")) {
      if (scope == RateLimitConfig.Scope.LOCAL && s.has(fleetOnly)) {
        s.problem(fleetOnly, "only used with scope: fleet (this limit is local)");
      }
    }
    Duration maxWait = s.duration("maxWait", RateLimitConfig.DEFAULT_MAX_WAIT);
    if (maxWait.compareTo(Duration.ofMillis(1)) < 0 || maxWait.compareTo(Duration.ofSeconds(10)) > 0) {
      s.problem("maxWait", maxWait.toMillis() + "ms (expected: 1ms..10s)");
    }
    return new RateLimitConfig(key, perSecond, burst, scope, onStoreDown, maxWait);
  }

  private static RetryConfig retries(Section s) {
    if (s == null) {
      return RetryConfig.DEFAULT;
    }
    List<String> on = s.items("on", RetryConfig.DEFAULT.on(), (n, p) -> {
      String v = Values.text(n, p, s.problems(), RETRY_ON);
      if (v != null && !isRetryCondition(v)) {
        s.problems().add(n.pos(), p, "'" + v + "' (expected one of: " + RETRY_ON + ")");
        return null;
      }
      return v;
    });
    return new RetryConfig(s.integer("attempts", RetryConfig.DEFAULT.attempts(), 1, 10), new ArrayList<>(on));
  }

  private static boolean isRetryCondition(String v) {
    return switch (v) {
      case "connect-failure", "reset", "timeout", "5xx" -> true;
      default -> v.matches("[45]\\d\\d");
    };
  }
}
