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
}
