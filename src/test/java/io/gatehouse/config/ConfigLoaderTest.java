package io.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {
  private static final String REVERSE = """
      listeners:
        - { name: web, bind: "127.0.0.1:0", mode: reverse }
      clusters:
        - { name: app, endpoints: ["127.0.0.1:9001"] }
      """;

  static GatehouseConfig parse(String yaml) throws ConfigException {
    return ConfigLoader.parse(yaml, "test.yaml", Map.of());
  }

  static List<String> problems(String yaml) {
    return problems(yaml, Map.of());
  }

  static List<String> problems(String yaml, Map<String, String> env) {
    try {
      ConfigLoader.parse(yaml, "test.yaml", env);
    } catch (ConfigException e) {
      return e.problems().stream().map(ConfigProblem::toString).toList();
    }
    throw new AssertionError("expected problems in:\n" + yaml);
  }

  @Test
  void reportsEveryProblemWithItsPosition() {
    String yaml = """
        listeners:
          - name: web
            bind: 127.0.0.1:8080
            mode: sideways
        clusters:
          - name: app
            endpoints:
              - { address: "127.0.0.1:9001", weight: 0 }
              - 127.0.0.1:9002
            timeouts: { connect: 5 }
        """;
    assertThat(problems(yaml)).containsExactly(
        "test.yaml:4:11: listeners[0].mode: 'sideways' (expected one of: forward, reverse)",
        "test.yaml:8:46: clusters[0].endpoints[0].weight: 0 (expected: 1..1000)",
        "test.yaml:10:26: clusters[0].timeouts.connect: '5' (expected: a duration such as 250ms, 1.5s, 10s, 5m, 1h, > 0)");
  }

  @Test
  void cleartextHttp2OnlyOnPlainReverseListeners() {
    String yaml = """
        listeners:
          - { name: out, bind: "127.0.0.1:0", mode: forward, http2: { cleartext: true } }
          - name: tls
            bind: "127.0.0.1:0"
            mode: reverse
            tls: { certificates: [ { cert: /nonexistent.pem, key: /nonexistent.key } ] }
            http2: { cleartext: true }
          - { name: odd, bind: "127.0.0.1:0", mode: reverse, http2: { cleartext: maybe } }
        """;
    assertThat(problems(yaml)).contains(
        "test.yaml:2:74: listeners[0].http2.cleartext: true on a forward listener (expected: only on reverse listeners)",
        "test.yaml:7:25: listeners[1].http2.cleartext: true on a TLS listener (expected: offer h2 through tls.alpn instead)",
        "test.yaml:8:74: listeners[2].http2.cleartext: 'maybe' (expected: true or false)");
  }

  @Test
  void tlsCiphersAreNamesListedOnceEach() {
    String yaml = """
        listeners:
          - { name: a, bind: "127.0.0.1:0", mode: reverse, tls: { certificates: [ { cert: /n.pem, key: /n.key } ], ciphers: [] } }
          - { name: b, bind: "127.0.0.1:0", mode: reverse, tls: { certificates: [ { cert: /n.pem, key: /n.key } ], ciphers: [AES128-SHA, AES128-SHA] } }
          - { name: c, bind: "127.0.0.1:0", mode: reverse, tls: { certificates: [ { cert: /n.pem, key: /n.key } ], ciphers: ["ECDHE RSA"] } }
        """;
    assertThat(problems(yaml)).filteredOn(p -> p.contains("ciphers")).containsExactly(
        "test.yaml:2:117: listeners[0].tls.ciphers: empty (expected: TLS 1.2 cipher suites by OpenSSL or IANA name, such as ECDHE-RSA-AES128-GCM-SHA256)",
        "test.yaml:3:117: listeners[1].tls.ciphers: a cipher suite is listed twice (expected: each at most once)",
        "test.yaml:4:118: listeners[2].tls.ciphers[0]: 'ECDHE RSA' (expected: TLS 1.2 cipher suites by OpenSSL or IANA name, such as ECDHE-RSA-AES128-GCM-SHA256)");
  }

  @Test
  void unknownKeyListsTheKnownKeys() {
    String yaml = """
        listeners:
          - { name: web, bind: "127.0.0.1:0", mode: reverse }
        clusters:
          - name: app
            balancr: p2c
            endpoints: ["127.0.0.1:9001"]
        """;
    assertThat(problems(yaml)).containsExactly(
        "test.yaml:5:5: clusters[0].balancr: unknown key 'balancr' (expected one of: name, balancer,"
            + " hashOn, endpoints, healthCheck, outlier, pool, timeouts, tls, slowStart, circuitBreaker,"
            + " proxyProtocol, protocol)");
  }

  @Test
  void clusterProtocol() throws ConfigException {
    String yaml = """
        listeners:
          - { name: web, bind: "127.0.0.1:0", mode: reverse }
        routes: [ { name: all, cluster: grpc } ]
        clusters:
          - { name: grpc, protocol: h2, endpoints: ["127.0.0.1:9001"], pool: { pingInterval: 5m, pingTimeout: 20s } }
          - { name: web, endpoints: ["127.0.0.1:9002"] }
        """;
    GatehouseConfig config = parse(yaml);
    assertThat(config.clusters().get(0).protocol()).isEqualTo(UpstreamProtocol.H2);
    assertThat(config.clusters().get(0).pool().pingInterval()).isEqualTo(java.time.Duration.ofMinutes(5));
    assertThat(config.clusters().get(0).pool().pingTimeout()).isEqualTo(java.time.Duration.ofSeconds(20));
    assertThat(config.clusters().get(1).protocol()).isEqualTo(UpstreamProtocol.HTTP1);
    assertThat(config.clusters().get(1).pool().pingInterval()).isZero(); // off by default
    assertThat(config.clusters().get(1).pool().pingTimeout()).isEqualTo(java.time.Duration.ofSeconds(10));
    String bad = """
        listeners:
          - { name: web, bind: "127.0.0.1:0", mode: reverse }
        routes: [ { name: all, cluster: a } ]
        clusters:
          - { name: a, protocol: h3, endpoints: ["127.0.0.1:9001"] }
          - { name: b, protocol: h2, proxyProtocol: v2, endpoints: ["127.0.0.1:9001"] }
          - { name: c, protocol: h2, pool: { maxConnectionsPerEndpoint: 4 }, endpoints: ["127.0.0.1:9001"] }
          - { name: d, pool: { pingInterval: 30s }, endpoints: ["127.0.0.1:9001"] }
        """;
    assertThat(problems(bad)).containsExactly(
        "test.yaml:5:26: clusters[0].protocol: 'h3' (expected one of: http1, h2)",
        "test.yaml:6:26: clusters[1].protocol: h2 cannot be combined with proxyProtocol (a PROXY header names one"
            + " client, an HTTP/2 connection carries many clients' requests; expected: protocol http1, or no proxyProtocol)",
        "test.yaml:7:26: clusters[2].protocol: h2 does not take pool.maxConnectionsPerEndpoint (an HTTP/2 cluster"
            + " opens one connection per event loop and endpoint, more only past the endpoint's concurrent-stream"
            + " limit; expected: pool.maxConnections to cap them per event loop)",
        "test.yaml:8:38: clusters[3].pool.pingInterval: only HTTP/2 connections are pinged (this cluster speaks"
            + " HTTP/1.1; expected: protocol h2, or no pingInterval)");
  }

  /** A list whose only entries are wrong is reported entry by entry, not also as "empty". */
  @Test
  void endpointListOfBadEntriesIsNotCalledEmpty() {
    String yaml = """
        listeners: [ { name: web, bind: 127.0.0.1:8080, mode: reverse } ]
        routes: [ { name: r, cluster: app } ]
        clusters:
          - { name: app, endpoints: ["h:0"] }
          - { name: none, endpoints: [] }
        """;
    assertThat(problems(yaml)).containsExactly(
        "test.yaml:4:30: clusters[0].endpoints[0]: port 0 in 'h:0' (expected: 1..65535)",
        "test.yaml:5:30: clusters[1].endpoints: empty (expected: at least one endpoint)");
  }

  @Test
  void unknownTopLevelKey() {
    assertThat(problems(REVERSE + "listners: []\n"))
        .containsExactly("test.yaml:5:1: listners: unknown key 'listners' (expected one of: admin, listeners,"
            + " routes, clusters, limits, accessLog, state, handoff, fleet)");
  }

  @Test
  void substitutesEnvironmentVariables() throws ConfigException {
    String yaml = """
        admin: { bind: "0.0.0.0:${ADMIN_PORT}", token: "${TOKEN}" }
        listeners:
          - { name: "${NAME:-fallback}", bind: "127.0.0.1:0", mode: forward }
          - { name: "cost-$${NOT_A_VAR}", bind: "127.0.0.1:0", mode: forward }
        """;
    GatehouseConfig c = ConfigLoader.parse(yaml, "t", Map.of("ADMIN_PORT", "9999", "TOKEN", "t0k"));
    assertThat(c.admin()).isEqualTo(new AdminConfig(new HostPort("0.0.0.0", 9999), "t0k"));
    assertThat(c.listeners()).extracting(ListenerConfig::name).containsExactly("fallback", "cost-${NOT_A_VAR}");
  }

  @Test
  void missingVariableIsAProblemAtItsPosition() {
    String yaml = """
        admin:
          token: ${SECRET}
        listeners:
          - { name: a, bind: "127.0.0.1:${PORT", mode: forward }
        """;
    assertThat(problems(yaml)).containsExactly(
        "test.yaml:2:10: admin.token: environment variable 'SECRET' is not set (use ${SECRET:-default} for a default)",
        "test.yaml:4:22: listeners[0].bind: unterminated '${' in '127.0.0.1:${PORT' (expected: ${NAME} or ${NAME:-default})");
  }

  @Test
  void emptyFileHasNoListeners() {
    assertThat(problems("")).containsExactly("test.yaml:1:1: listeners: no listeners (expected: at least one listener)");
    assertThat(problems("---\n")).containsExactly("test.yaml:1:1: listeners: no listeners (expected: at least one listener)");
    assertThat(problems("admin: {}\n")).containsExactly(
        "test.yaml:1:1: listeners: no listeners (expected: at least one listener)");
  }

  @Test
  void missingFile() {
    assertThatThrownBy(() -> ConfigLoader.load(java.nio.file.Path.of("no-such.yaml")))
        .isInstanceOf(ConfigException.class)
        .hasMessage("no-such.yaml:0:0: file not found");
  }

  @Test
  void invalidYamlIsOneProblem() {
    assertThat(problems("listeners: [\n")).singleElement().asString().isEqualTo(
        "test.yaml:1:13: invalid YAML: while parsing a flow node; expected the node content, but found '<stream end>'");
  }

  @Test
  void duplicateKeyInAMap() {
    assertThat(problems(REVERSE + "clusters: []\n")).containsExactly(
        "test.yaml:5:1: clusters: duplicate key 'clusters'");
  }

  @Test
  void appliesDefaults() throws ConfigException {
    GatehouseConfig c = parse("""
        listeners:
          - { name: fwd, bind: "127.0.0.1:3128", mode: forward }
        """);
    assertThat(c.source()).isNull();
    assertThat(c.admin()).isEqualTo(new AdminConfig(new HostPort("127.0.0.1", 9901), null));
    ListenerConfig l = c.listeners().get(0);
    assertThat(l.forward()).isEqualTo(new ForwardConfig(false, null, List.of(443), true, List.of(), Decision.DENY, null));
    assertThat(l.headers()).isEqualTo(ForwardedHeadersConfig.DEFAULT);
    assertThat(l.tls()).isNull();
    assertThat(c.limits()).isEqualTo(LimitsConfig.DEFAULT);
    assertThat(c.accessLog()).isEqualTo(AccessLogConfig.DEFAULT);
  }

  @Test
  void clusterAndRouteDefaults() throws ConfigException {
    GatehouseConfig c = parse(REVERSE + """
        routes:
          - { name: r, cluster: app, rateLimit: { perSecond: 2.5 } }
        """);
    ClusterConfig cluster = c.clusters().get(0);
    assertThat(cluster.balancer()).isEqualTo(BalancerKind.ROUND_ROBIN);
    assertThat(cluster.hashOn()).isEqualTo(HashOnConfig.CLIENT_IP);
    assertThat(cluster.endpoints()).containsExactly(new EndpointConfig(new HostPort("127.0.0.1", 9001), 1));
    assertThat(cluster.pool()).isEqualTo(PoolConfig.DEFAULT);
    assertThat(cluster.timeouts()).isEqualTo(TimeoutsConfig.DEFAULT);
    assertThat(cluster.healthCheck()).isNull();
    assertThat(cluster.outlier()).isNull();
    RouteConfig route = c.routes().get(0);
    assertThat(route.backends()).containsExactly(new BackendRef("app", 1));
    assertThat(route.match()).isEqualTo(new MatchConfig(null, "/"));
    assertThat(route.rateLimit()).isEqualTo(new RateLimitConfig("clientIp", 2.5, 3));
    assertThat(route.retries()).isEqualTo(RetryConfig.DEFAULT);
    assertThat(route.timeout()).isNull();
  }

  @Test
  void healthCheckDefaults() throws ConfigException {
    GatehouseConfig c = parse(REVERSE.replace("] }", "], healthCheck: { path: /hc }, outlier: {} }"));
    assertThat(c.clusters().get(0).healthCheck()).isEqualTo(new HealthCheckConfig(
        "/hc", Duration.ofSeconds(5), Duration.ofSeconds(1), 2, 3, 200, 399, null));
    assertThat(c.clusters().get(0).outlier()).isEqualTo(new OutlierConfig(5, Duration.ofSeconds(30), 50));
  }

  @Test
  void adminTokenRequiredBeyondLoopback() throws ConfigException {
    assertThat(problems(REVERSE + "admin: { bind: \"0.0.0.0:9901\" }\n")).containsExactly(
        "test.yaml:5:8: admin.token: missing for admin bind 0.0.0.0:9901"
            + " (expected: a token whenever admin listens beyond loopback)");
    assertThat(parse(REVERSE + "admin: { bind: \"[::1]:9901\" }\n").admin().token()).isNull();
    assertThat(parse(REVERSE + "admin: { bind: \"localhost:9901\" }\n").admin().token()).isNull();
  }

  @Test
  void embeddedDefaultIsALoopbackForwardProxy() {
    GatehouseConfig c = ConfigLoader.embeddedDefault();
    assertThat(c.source()).isNull();
    assertThat(c.admin()).isEqualTo(new AdminConfig(new HostPort("127.0.0.1", 9901), null));
    assertThat(c.routes()).isEmpty();
    assertThat(c.clusters()).isEmpty();
    assertThat(c.listeners()).singleElement().satisfies(l -> {
      assertThat(l.name()).isEqualTo("default");
      assertThat(l.bind()).isEqualTo(new HostPort("127.0.0.1", 3128));
      assertThat(l.mode()).isEqualTo(ListenerMode.FORWARD);
      assertThat(l.forward()).isEqualTo(new ForwardConfig(false, null, List.of(443), true,
          List.of(new AccessRuleConfig("loopback-clients", Decision.ALLOW, List.of("127.0.0.0/8", "::1/128"),
              List.of(), List.of(), List.of(), List.of())),
          Decision.DENY, null));
    });
  }

  @Test
  void exceptionMessageListsEveryProblem() {
    assertThatThrownBy(() -> parse("listeners: [ { name: a } ]\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("test.yaml:1:14: listeners[0].bind: missing (expected: host:port)\n"
            + "test.yaml:1:14: listeners[0].mode: missing (expected: forward or reverse)");
  }
}
