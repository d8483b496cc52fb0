package io.gatehouse.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The full example of {@code docs/config.md} must stay a valid config. */
class ConfigDocsTest {
  @Test
  void fullExampleLoads() throws IOException, ConfigException {
    String doc = Files.readString(Path.of("docs/config.md"));
    String section = doc.substring(doc.indexOf("## Full example"));
    int start = section.indexOf("```yaml\n") + "```yaml\n".length();
    String yaml = section.substring(start, section.indexOf("```", start));
    // The golden directory holds the certificate, key, CA and htpasswd files the example names.
    GatehouseConfig config = ConfigLoader.parse(yaml, "config.md", Map.of("GATEHOUSE_ADMIN_TOKEN", "t"), null,
        Path.of("src/test/resources/config-golden").toAbsolutePath());
    assertThat(config.listeners()).hasSize(2);
    assertThat(config.routes()).hasSize(2);
    assertThat(config.clusters()).hasSize(3);
  }
}
