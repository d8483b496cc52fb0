package io.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every example shipped in {@code examples/} must load: they are what users copy first. */
class ExamplesTest {
  static Stream<Path> examples() throws IOException {
    return Files.list(Path.of("examples")).filter(p -> p.toString().endsWith(".yaml")).sorted();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("examples")
  void loads(Path example) throws ConfigException {
    GatehouseConfig config = ConfigLoader.load(example, Map.of());
    assertThat(config.listeners()).isNotEmpty();
    assertThat(config.source()).isEqualTo(example.toAbsolutePath().normalize());
  }
}
