package io.gatehouse.config;

import java.nio.file.Path;

/**
 * Where runtime overrides (drain, enable/disable, weights) are kept across restarts.
 *
 * @param file the state file; null when nothing is persisted (a config without a file of its own,
 *     such as the embedded default, and no {@code state.file})
 */
public record StateConfig(Path file) {
  public static final StateConfig NONE = new StateConfig(null);

  /** The default: beside the config, {@code <config>.state.json}. */
  static StateConfig besideConfig(Path source) {
    return source == null ? NONE : new StateConfig(Path.of(source + ".state.json"));
  }
}
