package io.gatehouse.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * YAML text -> validated {@link GatehouseConfig}, reporting every problem with its position.
 *
 * <p>Three stages: {@link YamlTreeReader} builds a position-keeping tree (with {@code ${VAR}}
 * substituted), the {@code *Binder} classes turn it into records while collecting problems, and
 * {@link ConfigValidator} checks references between sections. Nothing is returned unless all
 * three found no problem.
 */
public final class ConfigLoader {
  static final String EMBEDDED_RESOURCE = "default.yaml";
  static final String EMBEDDED_NAME = "<embedded>";

  private ConfigLoader() {}

  /**
   * Loads a file, substituting {@code ${VAR}} from the process environment. Relative paths in it
   * (certificates, htpasswd, CA, access log) are resolved against the file's directory.
   */
  public static GatehouseConfig load(Path file) throws ConfigException {
    return load(file, System.getenv());
  }

  /**
   * As {@link #load(Path)}, then {@code checks} on a config that validated: what they report
   * becomes problems with positions ({@code gatehouse check} runs the start-up checks this way).
   */
  public static GatehouseConfig load(Path file, List<ConfigCheck> checks) throws ConfigException {
    return load(file, System.getenv(), checks);
  }

  static GatehouseConfig load(Path file, Map<String, String> env) throws ConfigException {
    return load(file, env, List.of());
  }

  static GatehouseConfig load(Path file, Map<String, String> env, List<ConfigCheck> checks) throws ConfigException {
    String yaml;
    try {
      yaml = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException(List.of(new ConfigProblem(file.toString(), 0, 0, "", "file not found")));
    } catch (IOException e) {
      throw new ConfigException(List.of(new ConfigProblem(file.toString(), 0, 0, "", "cannot read: " + e.getMessage())));
    }
    Path absolute = file.toAbsolutePath().normalize();
    return parse(yaml, file.toString(), env, absolute, absolute.getParent(), checks);
  }

  /**
   * Parses YAML text; {@code sourceName} is used in problem positions. Relative paths are
   * resolved against the working directory, and the result has no {@code source}.
   */
  public static GatehouseConfig parse(String yaml, String sourceName, Map<String, String> env)
      throws ConfigException {
    return parse(yaml, sourceName, env, null, Path.of("").toAbsolutePath());
  }

  static GatehouseConfig parse(String yaml, String sourceName, Map<String, String> env, Path source, Path baseDir)
      throws ConfigException {
    return parse(yaml, sourceName, env, source, baseDir, List.of());
  }

  static GatehouseConfig parse(String yaml, String sourceName, Map<String, String> env, Path source, Path baseDir,
      List<ConfigCheck> checks) throws ConfigException {
    Problems problems = new Problems(sourceName);
    YamlNode root = new YamlTreeReader(problems, env).read(yaml);
    GatehouseConfig config = ConfigBinder.bind(root, source, baseDir, problems);
    if (problems.isEmpty()) {
      for (ConfigCheck check : checks) {
        check.check(config, problems::at);
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems.sorted());
    }
    return config;
  }

  /** The embedded default: a loopback-only forward proxy on 127.0.0.1:3128, admin on 127.0.0.1:9901. */
  public static GatehouseConfig embeddedDefault() {
    try (InputStream in = ConfigLoader.class.getResourceAsStream(EMBEDDED_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("missing resource " + EMBEDDED_RESOURCE);
      }
      String yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return parse(yaml, EMBEDDED_NAME, Map.of(), null, Path.of("").toAbsolutePath());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (ConfigException e) {
      throw new IllegalStateException("the embedded default config is invalid:\n" + e.getMessage(), e);
    }
  }
}
