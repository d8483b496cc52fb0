package io.gatehouse.config;

import static io.gatehouse.config.ConfigLoaderTest.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code fleet} section: Redis address forms, names, and what is refused with which message. */
class FleetConfigTest {
  private static final String BASE = """
      listeners: [ { name: web, bind: 127.0.0.1:8080, mode: reverse } ]
      routes: [ { name: all, cluster: app } ]
      clusters: [ { name: app, endpoints: ["127.0.0.1:9001"] } ]
      """;

  private static GatehouseConfig parse(String yaml, Map<String, String> env) throws ConfigException {
    return ConfigLoader.parse(yaml, "test.yaml", env);
  }

  @Test
  void absentMeansASingleInstance() throws ConfigException {
    assertThat(parse(BASE, Map.of()).fleet()).isNull();
  }

  @Test
  void defaultsPortNameHeartbeatAndInstance() throws ConfigException {
    FleetConfig fleet = parse(BASE + "fleet: { redis: \"redis://127.0.0.1\" }\n", Map.of()).fleet();
    assertThat(fleet.redis()).isEqualTo(new FleetConfig.RedisAddress(false, "127.0.0.1", 6379, 0));
    assertThat(fleet.redis()).hasToString("redis://127.0.0.1:6379");
    assertThat(fleet.name()).isEqualTo("default");
    assertThat(fleet.instance()).isNotBlank().matches("[A-Za-z0-9][A-Za-z0-9._-]*");
    assertThat(fleet.heartbeat()).hasSeconds(1);
    assertThat(fleet.password()).isNull();
  }

  @Test
  void tlsIpv6AndPasswordFromTheEnvironment() throws ConfigException {
    FleetConfig fleet = parse(BASE + "fleet: { redis: \"rediss://[::1]:6380/3\", password: \"${PW}\", instance: b }\n",
        Map.of("PW", "s3cret")).fleet();
    assertThat(fleet.redis()).isEqualTo(new FleetConfig.RedisAddress(true, "::1", 6380, 3));
    assertThat(fleet.redis()).hasToString("rediss://[::1]:6380/3");
    assertThat(fleet.password()).isEqualTo("s3cret");
  }

  @Test
  void refusesWithPositionsAndExpectations() {
    assertThat(problems(BASE + "fleet: { redis: \"http://127.0.0.1:6379\" }\n"))
        .containsExactly("test.yaml:4:17: fleet.redis: 'http://127.0.0.1:6379': scheme 'http'"
            + " (expected: redis://host:port[/db] or rediss://host:port[/db])");
    assertThat(problems(BASE + "fleet: { redis: \"redis://127.0.0.1:6379/16\" }\n"))
        .containsExactly("test.yaml:4:17: fleet.redis: 'redis://127.0.0.1:6379/16': database '16'"
            + " (expected: 0..15 after the /)");
    assertThat(problems(BASE + "fleet: { instance: a }\n"))
        .containsExactly("test.yaml:4:8: fleet.redis: missing (expected: a Redis address such as"
            + " redis://127.0.0.1:6379 or rediss://host:6380)");
  }

  @Test
  void fleetRateLimitsBindAndNeedTheFleetSection() throws ConfigException {
    String route = """
        listeners: [ { name: web, bind: 127.0.0.1:8080, mode: reverse } ]
        routes: [ { name: all, cluster: app, rateLimit: %s } ]
        clusters: [ { name: app, endpoints: ["127.0.0.1:9001"] } ]
        """;
    GatehouseConfig config = parse(String.format(route, "{ perSecond: 100, scope: fleet, onStoreDown: deny }")
        + "fleet: { redis: \"redis://127.0.0.1\", expectedInstances: 3 }\n", Map.of());
    assertThat(config.routes().get(0).rateLimit()).isEqualTo(new RateLimitConfig("clientIp", 100, 100,
        RateLimitConfig.Scope.FLEET, RateLimitConfig.StoreDown.DENY, java.time.Duration.ofMillis(100)));
    assertThat(config.fleet().expectedInstances()).isEqualTo(3);
    assertThat(parse(String.format(route, "{ perSecond: 1 }"), Map.of()).routes().get(0).rateLimit().scope())
        .isEqualTo(RateLimitConfig.Scope.LOCAL);

    assertThat(problems(String.format(route, "{ perSecond: 5, scope: fleet }")))
        .containsExactly("test.yaml:2:72: routes[0].rateLimit.scope: fleet without a fleet section"
            + " (expected: a fleet: { redis: ... } section, or scope: local)");
    assertThat(problems(String.format(route, "{ perSecond: 5, onStoreDown: allow, maxWait: 20s }")))
        .containsExactly(
            "test.yaml:2:78: routes[0].rateLimit.onStoreDown: only used with scope: fleet (this limit is local)",
            "test.yaml:2:94: routes[0].rateLimit.maxWait: only used with scope: fleet (this limit is local)");
    assertThat(problems(String.format(route, "{ perSecond: 5, scope: fleet, maxWait: 20s }")
        + "fleet: { redis: \"redis://127.0.0.1\" }\n"))
        .containsExactly("test.yaml:2:88: routes[0].rateLimit.maxWait: 20000ms (expected: 1ms..10s)");
    assertThat(problems(String.format(route, "{ perSecond: 5, scope: everywhere, onStoreDown: maybe }")
        + "fleet: { redis: \"redis://127.0.0.1\", expectedInstances: 0 }\n"))
        .containsExactly(
            "test.yaml:2:72: routes[0].rateLimit.scope: 'everywhere' (expected one of: local, fleet)",
            "test.yaml:2:97: routes[0].rateLimit.onStoreDown: 'maybe' (expected one of: allow, deny, local)",
            "test.yaml:4:57: fleet.expectedInstances: 0 (expected: 1..1000)");
  }

  @Test
  void tlsTakesACaAndAClientCertificateForRedissOnly(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    io.gatehouse.testing.TestCerts certs = io.gatehouse.testing.TestCerts.selfSigned(dir);
    Map<String, String> env = Map.of("CERT", certs.certificate().toString(), "KEY", certs.privateKey().toString());
    FleetConfig fleet = parse(BASE + "fleet: { redis: \"rediss://redis.internal:6380\","
        + " tls: { ca: \"${CERT}\", cert: \"${CERT}\", key: \"${KEY}\" } }\n", env).fleet();
    assertThat(fleet.tls()).isEqualTo(new FleetConfig.Tls(certs.certificate(), certs.certificate(), certs.privateKey()));
    assertThat(parse(BASE + "fleet: { redis: \"rediss://redis.internal\" }\n", env).fleet().tls()).isNull();

    assertThat(problems(BASE + "fleet: { redis: \"redis://127.0.0.1\", tls: { ca: \"${CERT}\" } }\n", env))
        .containsExactly("test.yaml:4:43: fleet.tls: set for redis://127.0.0.1:6379"
            + " (expected: a rediss:// address, or no tls)");
    assertThat(problems(BASE + "fleet: { redis: \"rediss://h\", tls: { cert: \"${CERT}\" } }\n", env))
        .containsExactly("test.yaml:4:44: fleet.tls.cert: set without key (expected: both, for a client certificate)");
    assertThat(problems(BASE + "fleet: { redis: \"rediss://h\", tls: { ca: \"${KEY}\" } }\n", env))
        .singleElement().asString().startsWith("test.yaml:4:42: fleet.tls.ca: ")
        .endsWith("(expected: PEM CA certificates)");
    assertThat(problems(BASE + "fleet: { redis: \"rediss://h\", tls: { ca: /nowhere/ca.pem } }\n", env))
        .containsExactly("test.yaml:4:42: fleet.tls.ca: file not found: /nowhere/ca.pem"
            + " (expected: PEM CA certificates to trust for Redis)");
  }
}
