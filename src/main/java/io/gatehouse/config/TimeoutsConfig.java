package io.gatehouse.config;

import java.time.Duration;

/** Upstream timeouts of a cluster: connect, and from request sent to response head received. */
public record TimeoutsConfig(Duration connect, Duration response) {
  public static final TimeoutsConfig DEFAULT =
      new TimeoutsConfig(Duration.ofSeconds(5), Duration.ofSeconds(60));
}
