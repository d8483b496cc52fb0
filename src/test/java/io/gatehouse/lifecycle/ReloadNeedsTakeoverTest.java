package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.ConfigProblem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reload cannot move the admin listener, the hand-off socket or the fleet's Redis: it is refused, says that a
 * takeover applies it, and the running generation stays (it used to answer success and ignore it).
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ReloadNeedsTakeoverTest {
  @TempDir Path dir;

  @Test
  void an_admin_bind_change_is_refused_and_names_the_takeover() throws Exception {
    Path file = dir.resolve("g.yaml");
    String body = """
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: forward } ]
        """;
    Files.writeString(file, "admin: { bind: 127.0.0.1:0 }\n" + body);
    try (GatehouseServer server = GatehouseServer.start(ConfigLoader.load(file))) {
      long generation = server.generation();
      Files.writeString(file, "admin: { bind: 127.0.0.2:0 }\n" + body);

      ConfigException refused = catchThrowableOfType(ConfigException.class,
          () -> server.reload(ConfigLoader.load(file)));

      assertThat(refused).isNotNull();
      assertThat(refused.problems()).extracting(ConfigProblem::path).containsExactly("admin");
      assertThat(refused.problems().get(0).message()).contains("127.0.0.2:0").contains("--takeover");
      assertThat(server.generation()).isEqualTo(generation);
    }
  }

  @Test
  void a_fleet_change_is_refused_and_names_the_takeover() throws Exception {
    Path file = dir.resolve("f.yaml");
    String body = """
        admin: { bind: 127.0.0.1:0 }
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: forward } ]
        """;
    // Nothing listens on port 1: the instance starts without Redis (bounded wait) and that is fine here.
    Files.writeString(file, body + "fleet: { redis: \"redis://127.0.0.1:1\", instance: a, timeout: 100ms }\n");
    try (GatehouseServer server = GatehouseServer.start(ConfigLoader.load(file))) {
      long generation = server.generation();
      Files.writeString(file, body + "fleet: { redis: \"redis://127.0.0.1:2\", instance: a, timeout: 100ms }\n");

      ConfigException refused = catchThrowableOfType(ConfigException.class,
          () -> server.reload(ConfigLoader.load(file)));

      assertThat(refused).isNotNull();
      assertThat(refused.problems()).extracting(ConfigProblem::path).containsExactly("fleet");
      assertThat(refused.problems().get(0).message()).contains("--takeover");
      assertThat(server.generation()).isEqualTo(generation);
    }
  }
}
