package io.gatehouse.config;

import java.util.List;

/**
 * Settings of a forward-proxy listener. {@code auth} is null when no authentication is required.
 *
 * @param timeouts connect and response-head timeouts towards origins; never null
 */
public record ForwardConfig(
    boolean anonymize,
    AuthConfig auth,
    List<Integer> connectPorts,
    boolean blockPrivateDestinations,
    List<AccessRuleConfig> rules,
    Decision defaultDecision,
    TimeoutsConfig timeouts) {

  /** Origins are on the internet: a longer connect timeout than a cluster's default. */
  public static final TimeoutsConfig DEFAULT_TIMEOUTS =
      new TimeoutsConfig(java.time.Duration.ofSeconds(10), java.time.Duration.ofSeconds(60));

  public ForwardConfig {
    connectPorts = List.copyOf(connectPorts);
    rules = List.copyOf(rules);
    timeouts = timeouts == null ? DEFAULT_TIMEOUTS : timeouts;
  }
}
