package io.gatehouse.config;

import java.nio.file.Path;
import java.util.Map;

/** YAML text -> validated {@link GatehouseConfig}, reporting every problem with its position. */
public final class ConfigLoader {
  private ConfigLoader() {}

  /** Loads a file, substituting {@code ${VAR}} from the process environment. */
  public static GatehouseConfig load(Path file) throws ConfigException {
    throw new UnsupportedOperationException("TODO");
  }

  /** Parses YAML text; {@code sourceName} is used in problem positions. */
  public static GatehouseConfig parse(String yaml, String sourceName, Map<String, String> env)
      throws ConfigException {
    throw new UnsupportedOperationException("TODO");
  }

  /** The embedded default: a loopback-only forward proxy on 127.0.0.1:3128, admin on 127.0.0.1:9901. */
  public static GatehouseConfig embeddedDefault() {
    throw new UnsupportedOperationException("TODO");
  }
}
