package io.gatehouse.config;

import java.util.List;

/**
 * Retry policy. {@code attempts} counts every try including the first, so 1 means no retry. {@code on} holds conditions: {@code connect-failure}, {@code reset},
 * {@code timeout}, or a status code such as {@code "503"}.
 */
public record RetryConfig(int attempts, List<String> on) {
  public static final RetryConfig DEFAULT = new RetryConfig(1, List.of("connect-failure"));

  public RetryConfig {
    on = List.copyOf(on);
  }
}
