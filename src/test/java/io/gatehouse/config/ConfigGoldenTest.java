package io.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each {@code config-golden/NAME.yaml} either loads, and its {@link ConfigDump} must equal
 * {@code NAME.expected}, or fails, and its problem list must equal {@code NAME.errors}.
 * Regenerate with {@code -Dgolden.update=true} and review the diff.
 */
class ConfigGoldenTest {
  private static final Path DIR = Path.of("src/test/resources/config-golden");
  private static final Map<String, String> ENV = Map.of("GOLDEN_TOKEN", "s3cret", "API_PORT", "8081");

  static Stream<Path> goldenFiles() throws IOException {
    return Files.list(DIR).filter(p -> p.toString().endsWith(".yaml")).sorted();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("goldenFiles")
  void matchesGolden(Path yaml) throws IOException {
    String actual;
    String extension;
    try {
      actual = ConfigDump.dump(ConfigLoader.load(yaml, ENV));
      extension = ".expected";
    } catch (ConfigException e) {
      actual = e.problems().stream().map(p -> ConfigDump.relativize(p.toString()) + "\n").collect(Collectors.joining());
      extension = ".errors";
    }
    String name = yaml.getFileName().toString().replaceFirst("\\.yaml$", "");
    Path golden = DIR.resolve(name + extension);
    if (Boolean.getBoolean("golden.update")) {
      Files.deleteIfExists(DIR.resolve(name + ".expected"));
      Files.deleteIfExists(DIR.resolve(name + ".errors"));
      Files.writeString(golden, actual, StandardCharsets.UTF_8);
      return;
    }
    assertThat(golden).as("golden file (got:\n%s)", actual).exists();
    assertThat(actual).isEqualTo(Files.readString(golden, StandardCharsets.UTF_8));
  }
}
