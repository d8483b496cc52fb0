package io.gatehouse.config;

import java.util.List;

/**
 * Retry policy. {@code attempts} counts every try including the first, so 1 means no retry. {@code on} holds conditions: {@code connect-failure}, {@code reset},
 * {@code timeout}, or a status code such as {@code "503"}.
 */
public record RetryConfig(int attempts, List<String> on) {
  /**
   * Default: one more try elsewhere when a connection fails, or is reset before any response byte
   * for an idempotent request (as nginx and HAProxy do by default); the retry budget bounds it.
   */
  public static final RetryConfig DEFAULT = new RetryConfig(2, List.of("connect-failure", "reset"));

  public RetryConfig {
    on = List.copyOf(on);
  }
}
