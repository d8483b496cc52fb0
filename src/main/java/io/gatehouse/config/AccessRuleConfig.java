package io.gatehouse.config;

import java.util.List;

/**
 * One forward access rule; it matches when every non-empty list matches (empty = any).
 *
 * @param name given name, or {@code rules[i]} when none was given; shown in 403 replies
 * @param clients CIDR blocks or single addresses
 * @param hosts exact host names or {@code *.suffix}
 */
public record AccessRuleConfig(
    String name,
    Decision decision,
    List<String> clients,
    List<String> hosts,
    List<Integer> ports,
    List<String> methods,
    List<String> users) {

  public AccessRuleConfig {
    clients = List.copyOf(clients);
    hosts = List.copyOf(hosts);
    ports = List.copyOf(ports);
    methods = List.copyOf(methods);
    users = List.copyOf(users);
  }
}
