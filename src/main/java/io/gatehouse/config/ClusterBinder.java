package io.gatehouse.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Binds one entry of {@code clusters}, with its endpoints and upstream policies. */
final class ClusterBinder {
  static final List<String> KEYS = List.of("name", "balancer", "hashOn", "endpoints", "healthCheck",
      "outlier", "pool", "timeouts", "tls", "slowStart", "circuitBreaker",
      "proxyProtocol", "protocol");
  private static final List<String> HEALTH_KEYS =
      List.of("type", "path", "interval", "timeout", "rise", "fall", "expectStatus", "host");

  private ClusterBinder() {}

  static ClusterConfig bind(YamlNode node, String path, Problems problems, Path baseDir) {
    Section s = Section.of(node, path, problems, baseDir, KEYS);
    String name = s.requiredString("name", "a cluster name");
    BalancerKind balancer = s.choice("balancer", BalancerKind.ROUND_ROBIN, BalancerKind.class);
    HashOnConfig hashOn = HashOnConfig.CLIENT_IP;
    if (s.has("hashOn")) {
      hashOn = hashOn(s.get("hashOn"), s.path("hashOn"), s);
      if (balancer != BalancerKind.CONSISTENT_HASH) {
        s.problem("hashOn", "only used by balancer consistent_hash (this cluster uses " + balancer.yamlName() + ")");
      }
    }
    ProxyProtocolVersion proxyProtocol = s.choice("proxyProtocol", null, ProxyProtocolVersion.class);
    UpstreamProtocol protocol = s.choice("protocol", UpstreamProtocol.HTTP1, UpstreamProtocol.class);
    Section poolSection = s.section("pool",
        List.of("maxConnections", "maxIdleTime", "maxConnectionsPerEndpoint", "pingInterval", "pingTimeout"));
    PoolConfig pool = pool(poolSection);
    if (protocol == UpstreamProtocol.H2 && proxyProtocol != null) {
      // A PROXY header names one client; an HTTP/2 connection carries many clients' streams.
      s.problem("protocol", "h2 cannot be combined with proxyProtocol (a PROXY header names one client, an HTTP/2"
          + " connection carries many clients' requests; expected: protocol http1, or no proxyProtocol)");
    }
    if (protocol == UpstreamProtocol.H2 && pool.maxConnectionsPerEndpoint() > 0) {
      s.problem("protocol", "h2 does not take pool.maxConnectionsPerEndpoint (an HTTP/2 cluster opens one connection"
          + " per event loop and endpoint, more only past the endpoint's concurrent-stream limit; expected:"
          + " pool.maxConnections to cap them per event loop)");
    }
    if (protocol != UpstreamProtocol.H2 && !pool.pingInterval().isZero()) {
      poolSection.problem("pingInterval", "only HTTP/2 connections are pinged (this cluster speaks HTTP/1.1; expected:"
          + " protocol h2, or no pingInterval)");
    }
    return new ClusterConfig(
        name,
        balancer,
        hashOn,
        endpoints(s),
        healthCheck(s.section("healthCheck", HEALTH_KEYS)),
        outlier(s.section("outlier", List.of("consecutiveFailures", "ejectFor", "maxEjectionPercent"))),
        pool,
        timeouts(s.section("timeouts", List.of("connect", "response")), TimeoutsConfig.DEFAULT),
        tls(s.section("tls", List.of("verify", "ca", "sni"))),
        s.duration("slowStart", Duration.ZERO),
        circuitBreaker(s.section("circuitBreaker", List.of("maxInFlight", "maxPending"))),
        proxyProtocol,
        protocol);
  }

  private static CircuitBreakerConfig circuitBreaker(Section s) {
    return s == null ? CircuitBreakerConfig.DEFAULT
        : new CircuitBreakerConfig(s.integer("maxInFlight", 0, 0, 10_000_000), s.integer("maxPending", 0, 0, 10_000_000));
  }

  /** {@code clientIp}, {@code {header: NAME}} or {@code {cookie: NAME}}. */
  private static HashOnConfig hashOn(YamlNode node, String path, Section parent) {
    if (node instanceof YamlNode.Scalar sc && "clientIp".equals(sc.text())) {
      return HashOnConfig.CLIENT_IP;
    }
    if (node instanceof YamlNode.Scalar) {
      parent.problem("hashOn", YamlNode.kind(node) + " (expected: clientIp, {header: NAME} or {cookie: NAME})");
      return HashOnConfig.CLIENT_IP;
    }
    Section s = Section.of(node, path, parent.problems(), parent.baseDir(), List.of("header", "cookie"));
    if (s.has("header") == s.has("cookie")) {
      s.problems().add(s.pos(), path, "expected exactly one of: header, cookie");
      return HashOnConfig.CLIENT_IP;
    }
    return s.has("header")
        ? new HashOnConfig(HashOnConfig.Source.HEADER, s.requiredString("header", "a header name"))
        : new HashOnConfig(HashOnConfig.Source.COOKIE, s.requiredString("cookie", "a cookie name"));
  }

  private static List<EndpointConfig> endpoints(Section s) {
    Problems problems = s.problems();
    Set<HostPort> seen = new HashSet<>();
    int[] listed = {0}; // entries written, valid or not: a list of bad entries is not "empty"
    List<EndpointConfig> endpoints = s.items("endpoints", List.of(), (n, p) -> {
      listed[0]++;
      EndpointConfig e = endpoint(n, p, problems, s.baseDir());
      if (e != null && e.address() != null && !seen.add(e.address())) {
        problems.add(n.pos(), p, "duplicate endpoint " + e.address() + " (expected: each address once per cluster)");
      }
      return e;
    });
    if (endpoints.isEmpty() && listed[0] == 0) {
      if (s.has("endpoints")) {
        s.problem("endpoints", "empty (expected: at least one endpoint)");
      } else {
        s.missing("endpoints", "a list of host:port or {address, weight}");
      }
    }
    return endpoints;
  }

  /** A plain {@code "host:port"} or {@code {address, weight}}. */
  private static EndpointConfig endpoint(YamlNode node, String path, Problems problems, Path baseDir) {
    if (node instanceof YamlNode.Scalar) {
      HostPort hp = Addresses.hostPort(node, path, problems, 1);
      return hp == null ? null : new EndpointConfig(hp, 1);
    }
    Section e = Section.of(node, path, problems, baseDir, List.of("address", "weight"));
    HostPort address = null;
    if (e.has("address")) {
      address = Addresses.hostPort(e.get("address"), e.path("address"), problems, 1);
    } else {
      e.missing("address", "host:port");
    }
    return new EndpointConfig(address, e.integer("weight", 1, 1, 1000));
  }

  private static HealthCheckConfig healthCheck(Section s) {
    if (s == null) {
      return null;
    }
    String type = s.string("type", s.has("path") ? "http" : "tcp");
    String path = s.string("path", null);
    if (type.equals("http")) {
      path = path == null ? "/" : path;
      if (!path.startsWith("/")) {
        s.problem("path", "'" + path + "' (expected: a path starting with /)");
      }
    } else if (type.equals("tcp")) {
      if (path != null || s.has("expectStatus") || s.has("host")) {
        s.problem("type", "tcp checks take no path, expectStatus or host (expected: type http, or remove them)");
      }
    } else {
      s.problem("type", "'" + type + "' (expected one of: tcp, http)");
    }
    Duration interval = s.duration("interval", Duration.ofSeconds(5));
    Duration timeout = s.duration("timeout", Duration.ofSeconds(1));
    if (timeout.compareTo(interval) > 0) {
      s.problem("timeout", timeout + " is longer than interval " + interval + " (expected: timeout <= interval)");
    }
    int[] status = expectStatus(s);
    return new HealthCheckConfig(type.equals("http") ? path : null, interval, timeout,
        s.integer("rise", 2, 1, 100), s.integer("fall", 3, 1, 100), status[0], status[1], s.string("host", null));
  }

  /** {@code "200-399"} or a single code {@code "204"}. */
  private static int[] expectStatus(Section s) {
    String text = s.string("expectStatus", "200-399").strip();
    String[] parts = text.split("-", -1);
    try {
      if (parts.length <= 2) {
        int min = Integer.parseInt(parts[0].strip());
        int max = Integer.parseInt(parts[parts.length - 1].strip());
        if (min >= 100 && max <= 599 && min <= max) {
          return new int[] {min, max};
        }
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    s.problem("expectStatus", "'" + text + "' (expected: a status or range within 100..599, such as 200-399)");
    return new int[] {200, 399};
  }

  private static OutlierConfig outlier(Section s) {
    if (s == null) {
      return null;
    }
    return new OutlierConfig(s.integer("consecutiveFailures", 5, 1, 1000),
        s.duration("ejectFor", Duration.ofSeconds(30)), s.integer("maxEjectionPercent", 50, 0, 100));
  }

  private static PoolConfig pool(Section s) {
    PoolConfig d = PoolConfig.DEFAULT;
    return s == null ? d : new PoolConfig(s.integer("maxConnections", d.maxConnections(), 0, 1_000_000),
        s.duration("maxIdleTime", d.maxIdleTime()),
        s.integer("maxConnectionsPerEndpoint", d.maxConnectionsPerEndpoint(), 0, 1_000_000),
        s.durationOrZero("pingInterval", d.pingInterval()), s.duration("pingTimeout", d.pingTimeout()));
  }

  /** {@code timeouts: {connect, response}} of a cluster or a forward listener, defaults {@code d}. */
  static TimeoutsConfig timeouts(Section s, TimeoutsConfig d) {
    return s == null ? d : new TimeoutsConfig(s.duration("connect", d.connect()), s.duration("response", d.response()));
  }

  private static UpstreamTlsConfig tls(Section s) {
    if (s == null) {
      return null;
    }
    Path ca = s.has("ca") ? s.file("ca", "a PEM file of trusted CA certificates") : null;
    return new UpstreamTlsConfig(s.bool("verify", true), ca, s.string("sni", null));
  }
}
