package io.gatehouse.forward;

import io.gatehouse.config.AccessRuleConfig;
import io.gatehouse.http.Cidr;
import io.gatehouse.config.Decision;
import io.gatehouse.config.ForwardConfig;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A forward listener's access rules, compiled from config: ordered, the first rule whose every
 * given condition matches decides; {@code default} decides when none does. Immutable; {@link
 * #decide} is a pure function, safe from any thread.
 */
final class AccessPolicy {
  /** Name reported when the default decided. */
  static final String DEFAULT_RULE = "default";

  private final List<Rule> rules;
  private final Decision defaultDecision;

  private AccessPolicy(List<Rule> rules, Decision defaultDecision) {
    this.rules = rules;
    this.defaultDecision = defaultDecision;
  }

  static AccessPolicy compile(ForwardConfig config) {
    List<Rule> rules = new ArrayList<>();
    for (AccessRuleConfig rc : config.rules()) {
      rules.add(Rule.compile(rc));
    }
    return new AccessPolicy(List.copyOf(rules), config.defaultDecision());
  }

  /** What is known of a request when it is checked; {@code user} is null without authentication. */
  record Request(InetAddress client, String host, int port, String method, String user) {}

  AccessDecision decide(Request request) {
    for (Rule rule : rules) {
      if (rule.matches(request)) {
        return rule.decision == Decision.ALLOW
            ? new AccessDecision.Allow(rule.name, !rule.hosts.isEmpty())
            : new AccessDecision.Deny(rule.name);
      }
    }
    return defaultDecision == Decision.ALLOW
        ? new AccessDecision.Allow(DEFAULT_RULE, false)
        : new AccessDecision.Deny(DEFAULT_RULE);
  }

  private static final class Rule {
    final String name;
    final Decision decision;
    final List<Cidr> clients;
    /** Exact host names. */
    final Set<String> hosts;
    /** Suffixes with their leading dot: {@code *.ads.example} is kept as {@code .ads.example}. */
    final List<String> suffixes;
    final Set<Integer> ports;
    final Set<String> methods;
    final Set<String> users;

    private Rule(String name, Decision decision, List<Cidr> clients, Set<String> hosts, List<String> suffixes,
        Set<Integer> ports, Set<String> methods, Set<String> users) {
      this.name = name;
      this.decision = decision;
      this.clients = clients;
      this.hosts = hosts;
      this.suffixes = suffixes;
      this.ports = ports;
      this.methods = methods;
      this.users = users;
    }

    static Rule compile(AccessRuleConfig rc) {
      List<Cidr> clients = rc.clients().stream().map(Cidr::parse).toList();
      Set<String> exact = new java.util.HashSet<>();
      List<String> suffixes = new ArrayList<>();
      for (String h : rc.hosts()) {
        String host = h.toLowerCase(Locale.ROOT);
        if (host.startsWith("*.")) {
          suffixes.add(host.substring(1));
        } else {
          exact.add(host);
        }
      }
      return new Rule(rc.name(), rc.decision(), clients, Set.copyOf(exact), List.copyOf(suffixes),
          Set.copyOf(rc.ports()), Set.copyOf(rc.methods()), Set.copyOf(rc.users()));
    }

    boolean matches(Request r) {
      return matchesClient(r.client())
          && matchesHost(r.host())
          && (ports.isEmpty() || ports.contains(r.port()))
          && (methods.isEmpty() || methods.contains(r.method()))
          && (users.isEmpty() || (r.user() != null && users.contains(r.user())));
    }

    private boolean matchesClient(InetAddress client) {
      if (clients.isEmpty()) {
        return true;
      }
      for (Cidr cidr : clients) {
        if (cidr.contains(client)) {
          return true;
        }
      }
      return false;
    }

    /** {@code *.example.com} matches sub-domains only, as the config reference documents. */
    private boolean matchesHost(String host) {
      if (hosts.isEmpty() && suffixes.isEmpty()) {
        return true;
      }
      if (hosts.contains(host)) {
        return true;
      }
      for (String suffix : suffixes) {
        if (host.endsWith(suffix)) {
          return true;
        }
      }
      return false;
    }
  }
}
