package io.gatehouse.config;

import java.nio.file.Path;

/**
 * Where a running instance offers its listening sockets to a successor started with
 * {@code gatehouse run --takeover}.
 *
 * @param socket the Unix socket path; {@code null} when there is none (the embedded default)
 */
public record HandoffConfig(Path socket) {
  public static final HandoffConfig NONE = new HandoffConfig(null);
  /** {@code sun_path} holds 108 bytes including the terminating NUL (unix(7)). */
  static final int MAX_PATH_BYTES = 107;

  /**
   * The default: beside the config, {@code <config>.handoff.sock}, like the state file: one per
   * instance, found by an operator who knows the config, and writable by whoever may write there.
   */
  static HandoffConfig besideConfig(Path source) {
    return source == null ? NONE : new HandoffConfig(Path.of(source.toAbsolutePath() + ".handoff.sock"));
  }
}
