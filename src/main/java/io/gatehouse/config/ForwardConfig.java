package io.gatehouse.config;

import java.util.List;

/**
 * Settings of a forward-proxy listener. {@code auth} is null when no authentication is required.
 *
 * @param timeouts connect and response-head timeouts towards origins; never null
 * @param poolIdleTime an idle keep-alive connection to an origin closes after this, and an origin's
 *     pool with no connection left is forgotten after as long again
 */
public record ForwardConfig(
    boolean anonymize,
    AuthConfig auth,
    List<Integer> connectPorts,
    boolean blockPrivateDestinations,
    List<AccessRuleConfig> rules,
    Decision defaultDecision,
    TimeoutsConfig timeouts,
    java.time.Duration poolIdleTime) {

  /** Origins are on the internet: a longer connect timeout than a cluster's default. */
  public static final TimeoutsConfig DEFAULT_TIMEOUTS =
      new TimeoutsConfig(java.time.Duration.ofSeconds(10), java.time.Duration.ofSeconds(60));

  public static final java.time.Duration DEFAULT_POOL_IDLE_TIME = java.time.Duration.ofSeconds(60);

  public ForwardConfig(boolean anonymize, AuthConfig auth, List<Integer> connectPorts, boolean blockPrivateDestinations,
      List<AccessRuleConfig> rules, Decision defaultDecision, TimeoutsConfig timeouts) {
    this(anonymize, auth, connectPorts, blockPrivateDestinations, rules, defaultDecision, timeouts, DEFAULT_POOL_IDLE_TIME);
  }

  public ForwardConfig {
    connectPorts = List.copyOf(connectPorts);
    rules = List.copyOf(rules);
    timeouts = timeouts == null ? DEFAULT_TIMEOUTS : timeouts;
    poolIdleTime = poolIdleTime == null ? DEFAULT_POOL_IDLE_TIME : poolIdleTime;
  }
}
