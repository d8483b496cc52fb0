package io.gatehouse.config;

import java.util.List;

/** Settings of a forward-proxy listener. {@code auth} is null when no authentication is required. */
public record ForwardConfig(
    boolean anonymize,
    AuthConfig auth,
    List<Integer> connectPorts,
    boolean blockPrivateDestinations,
    List<AccessRuleConfig> rules,
    Decision defaultDecision) {

  public ForwardConfig {
    connectPorts = List.copyOf(connectPorts);
    rules = List.copyOf(rules);
  }
}
