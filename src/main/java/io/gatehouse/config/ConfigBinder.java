package io.gatehouse.config;

import java.nio.file.Path;
import java.util.List;

/** Binds the root map and the small top-level sections (admin, limits, accessLog; fleet in {@link FleetBinder}). */
final class ConfigBinder {
  static final HostPort DEFAULT_ADMIN_BIND = new HostPort("127.0.0.1", 9901);

  private ConfigBinder() {}

  static GatehouseConfig bind(YamlNode root, Path source, Path baseDir, Problems problems) {
    if (root instanceof YamlNode.Scalar s && s.isNull()) {
      root = null; // a file holding only "---" or "~" is as empty as an empty file
    }
    if (root == null) {
      if (problems.isEmpty()) {
        problems.add(new YamlNode.Pos(1, 1), "listeners", "no listeners (expected: at least one listener)");
      }
      return null;
    }
    Section s = Section.of(root, "", problems, baseDir,
        List.of("admin", "listeners", "routes", "clusters", "limits", "accessLog", "state", "handoff", "fleet"));
    AdminConfig admin = admin(s.section("admin", List.of("bind", "token")));
    List<ListenerConfig> listeners = s.items("listeners", List.of(), (n, p) -> ListenerBinder.bind(n, p, problems, baseDir));
    if (listeners.isEmpty() && root instanceof YamlNode.MapNode) {
      s.problem("listeners", "no listeners (expected: at least one listener)");
    }
    List<ClusterConfig> clusters = s.items("clusters", List.of(), (n, p) -> ClusterBinder.bind(n, p, problems, baseDir));
    List<RouteConfig> routes = s.items("routes", List.of(), (n, p) -> RouteBinder.bind(n, p, problems, baseDir));
    LimitsConfig limits = limits(s.section("limits", List.of("maxConnections", "perClient", "headerTimeout",
        "idleTimeout", "maxHeaderBytes", "maxBodyBytes", "maxUriBytes", "maxHeaderFields", "drainTimeout",
        "requestBufferBytes", "minRequestBodyRate", "minResponseReadRate", "minRateWindow", "closeSpread")));
    AccessLogConfig accessLog = accessLog(s.section("accessLog", List.of("enabled", "format", "path")));
    StateConfig state = state(s.section("state", List.of("file")), source);
    HandoffConfig handoff = handoff(s.section("handoff", List.of("socket")), source);
    FleetConfig fleet = FleetBinder.bind(s.section("fleet", FleetBinder.KEYS));
    GatehouseConfig config = new GatehouseConfig(source, admin, listeners, routes, clusters, limits, accessLog, state,
        handoff, fleet);
    new ConfigValidator(config, problems).validate();
    return config;
  }

  private static AdminConfig admin(Section s) {
    if (s == null) {
      return new AdminConfig(DEFAULT_ADMIN_BIND, null);
    }
    HostPort bind = DEFAULT_ADMIN_BIND;
    if (s.has("bind")) {
      HostPort hp = Addresses.hostPort(s.get("bind"), s.path("bind"), s.problems(), 0);
      bind = hp == null ? DEFAULT_ADMIN_BIND : hp;
    }
    String token = null;
    if (s.has("token")) {
      token = s.requiredString("token", "a bearer token");
    }
    if (token == null && !AdminConfig.isLoopback(bind.host())) {
      s.problem("token", "missing for admin bind " + bind
          + " (expected: a token whenever admin listens beyond loopback)");
    }
    return new AdminConfig(bind, token);
  }

  private static LimitsConfig limits(Section s) {
    LimitsConfig d = LimitsConfig.DEFAULT;
    if (s == null) {
      return d;
    }
    return new LimitsConfig(
        s.integer("maxConnections", d.maxConnections(), 1, Integer.MAX_VALUE),
        perClient(s.section("perClient", List.of("connections", "requestsPerSecond", "burst"))),
        s.duration("headerTimeout", d.headerTimeout()),
        s.duration("idleTimeout", d.idleTimeout()),
        (int) s.size("maxHeaderBytes", d.maxHeaderBytes(), 1024, Integer.MAX_VALUE),
        s.size("maxBodyBytes", d.maxBodyBytes(), 0, Long.MAX_VALUE),
        (int) s.size("maxUriBytes", d.maxUriBytes(), 256, Integer.MAX_VALUE),
        s.integer("maxHeaderFields", d.maxHeaderFields(), 1, 100_000),
        s.durationOrZero("drainTimeout", d.drainTimeout()),
        s.size("requestBufferBytes", d.requestBufferBytes(), 0, 16L * 1024 * 1024),
        s.size("minRequestBodyRate", d.minRequestBodyRate(), 0, Integer.MAX_VALUE),
        s.size("minResponseReadRate", d.minResponseReadRate(), 0, Integer.MAX_VALUE),
        s.duration("minRateWindow", d.minRateWindow()),
        s.durationOrZero("closeSpread", d.closeSpread()));
  }

  /** Absent keys mean "no limit" (0). */
  private static PerClientLimits perClient(Section s) {
    if (s == null) {
      return null;
    }
    int connections = s.integer("connections", 0, 1, Integer.MAX_VALUE);
    double rate = 0;
    if (s.has("requestsPerSecond")) {
      Double r = Values.positive(s.get("requestsPerSecond"), s.path("requestsPerSecond"), s.problems());
      rate = r == null ? 0 : r;
    }
    int burst = s.integer("burst", (int) Math.ceil(rate), 1, Integer.MAX_VALUE);
    if (s.has("burst") && rate == 0) {
      s.problem("burst", "set without requestsPerSecond (expected: both, or neither)");
    }
    return new PerClientLimits(connections, rate, burst);
  }

  private static StateConfig state(Section s, Path source) {
    if (s == null || !s.has("file")) {
      return StateConfig.besideConfig(source);
    }
    String file = s.requiredString("file", "a file path for runtime overrides");
    if (file == null || file.isBlank()) {
      s.problem("file", "empty (expected: a file path for runtime overrides)");
      return StateConfig.besideConfig(source);
    }
    return new StateConfig(s.baseDir().resolve(file).normalize());
  }

  private static HandoffConfig handoff(Section s, Path source) {
    if (s == null || !s.has("socket")) {
      return HandoffConfig.besideConfig(source);
    }
    String socket = s.requiredString("socket", "a Unix socket path");
    if (socket == null || socket.isBlank()) {
      s.problem("socket", "empty (expected: a Unix socket path)");
      return HandoffConfig.besideConfig(source);
    }
    Path path = s.baseDir().resolve(socket).normalize();
    if (path.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length > HandoffConfig.MAX_PATH_BYTES) {
      s.problem("socket", "'" + path + "' is longer than " + HandoffConfig.MAX_PATH_BYTES
          + " bytes (expected: a shorter path; Unix socket paths are limited by the kernel)");
    }
    return new HandoffConfig(path);
  }

  private static AccessLogConfig accessLog(Section s) {
    AccessLogConfig d = AccessLogConfig.DEFAULT;
    if (s == null) {
      return d;
    }
    String path = s.string("path", d.path());
    if (path.isBlank()) {
      s.problem("path", "empty (expected: a file path, or - for stdout)");
    } else if (!path.equals("-")) {
      path = s.baseDir().resolve(path).normalize().toString();
    }
    return new AccessLogConfig(
        s.bool("enabled", d.enabled()), s.choice("format", d.format(), AccessLogConfig.Format.class), path);
  }
}
