package io.gatehouse.config;

import java.util.List;
import java.util.Locale;

/** Binds a forward listener's {@code forward} block and its access rules. */
final class ForwardBinder {
  static final List<String> KEYS =
      List.of("anonymize", "auth", "connectPorts", "blockPrivateDestinations", "rules", "default", "timeouts", "pool");
  static final List<String> RULE_KEYS = List.of("name", "clients", "hosts", "ports", "methods", "users");

  /** A forward listener without a {@code forward} block: no rules, so everything is denied. */
  static final ForwardConfig DEFAULT = new ForwardConfig(false, null, List.of(443), true, List.of(), Decision.DENY, null);

  private ForwardBinder() {}

  static ForwardConfig bind(Section s) {
    Problems problems = s.problems();
    List<Integer> connectPorts = s.items("connectPorts", DEFAULT.connectPorts(), (n, p) -> port(n, p, problems));
    List<AccessRuleConfig> rules = s.items("rules", List.of(), (n, p) -> rule(n, p, s));
    return new ForwardConfig(
        s.bool("anonymize", DEFAULT.anonymize()),
        auth(s.section("auth", List.of("realm", "users"))),
        connectPorts,
        s.bool("blockPrivateDestinations", DEFAULT.blockPrivateDestinations()),
        rules,
        s.choice("default", DEFAULT.defaultDecision(), Decision.class),
        ClusterBinder.timeouts(s.section("timeouts", List.of("connect", "response")), ForwardConfig.DEFAULT_TIMEOUTS),
        poolIdleTime(s.section("pool", List.of("maxIdleTime"))));
  }

  private static java.time.Duration poolIdleTime(Section s) {
    return s == null ? ForwardConfig.DEFAULT_POOL_IDLE_TIME : s.duration("maxIdleTime", ForwardConfig.DEFAULT_POOL_IDLE_TIME);
  }

  private static AuthConfig auth(Section s) {
    if (s == null) {
      return null;
    }
    String realm = s.string("realm", "gatehouse");
    if (realm.isBlank() || realm.indexOf('"') >= 0) {
      s.problem("realm", "'" + realm + "' (expected: a non-empty realm without '\"')");
    }
    java.nio.file.Path users = s.file("users", "an htpasswd file of bcrypt entries");
    if (users != null && java.nio.file.Files.isRegularFile(users)) {
      String bad = firstNonBcryptEntry(users);
      if (bad != null) {
        s.problem("users", bad);
      }
    }
    return new AuthConfig(realm, users);
  }

  /**
   * The same rule the proxy applies when it loads the file (forward.ProxyAuthenticator): every
   * entry is {@code user:$2a$|$2b$|$2y$...}. Checked here so {@code check} refuses what {@code run} refuses.
   */
  static String firstNonBcryptEntry(java.nio.file.Path users) {
    List<String> lines;
    try {
      lines = java.nio.file.Files.readAllLines(users, java.nio.charset.StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      return "cannot read " + users + ": " + e.getMessage();
    }
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int colon = line.indexOf(':');
      String hash = colon < 0 ? "" : line.substring(colon + 1);
      if (colon <= 0 || !(hash.startsWith("$2a$") || hash.startsWith("$2b$") || hash.startsWith("$2y$"))) {
        return users + " line " + (i + 1) + ": not a bcrypt htpasswd entry (expected: user:$2y$..., made with htpasswd -nbB)";
      }
    }
    return null;
  }

  /** A rule is a single-key map: {@code allow: {...}} or {@code deny: {...}}. */
  private static AccessRuleConfig rule(YamlNode node, String path, Section parent) {
    Problems problems = parent.problems();
    if (!(node instanceof YamlNode.MapNode map) || map.entries().size() != 1) {
      problems.add(node.pos(), path, YamlNode.kind(node) + " (expected: a map with one key, allow or deny)");
      return null;
    }
    YamlNode.Entry entry = map.entries().values().iterator().next();
    Decision decision;
    if (entry.key().equals("allow")) {
      decision = Decision.ALLOW;
    } else if (entry.key().equals("deny")) {
      decision = Decision.DENY;
    } else {
      problems.add(entry.keyPos(), Paths.child(path, entry.key()),
          "unknown key '" + entry.key() + "' (expected one of: allow, deny)");
      return null;
    }
    String rulePath = Paths.child(path, entry.key());
    Section s = Section.of(entry.value(), rulePath, problems, parent.baseDir(), RULE_KEYS);
    String defaultName = path.substring(path.lastIndexOf('.') + 1);
    List<String> clients = s.items("clients", List.of(), (n, p) -> {
      String v = Values.text(n, p, problems, "an IP address or CIDR block");
      String problem = v == null ? null : Addresses.cidrProblem(v.strip());
      if (problem != null) {
        problems.add(n.pos(), p, problem);
      }
      return v == null ? null : v.strip();
    });
    List<String> hosts = s.items("hosts", List.of(), (n, p) -> {
      String v = Values.text(n, p, problems, "a host name or *.suffix");
      if (v == null) {
        return null;
      }
      v = v.strip().toLowerCase(Locale.ROOT);
      String problem = Addresses.hostPatternProblem(v);
      if (problem != null) {
        problems.add(n.pos(), p, problem);
      }
      return v;
    });
    List<String> methods = s.items("methods", List.of(), (n, p) -> {
      String v = Values.text(n, p, problems, "an HTTP method");
      if (v != null && !v.strip().matches("[A-Za-z]+")) {
        problems.add(n.pos(), p, "'" + v + "' (expected: an HTTP method such as GET or CONNECT)");
      }
      return v == null ? null : v.strip().toUpperCase(Locale.ROOT);
    });
    return new AccessRuleConfig(
        s.string("name", defaultName),
        decision,
        clients,
        hosts,
        s.items("ports", List.of(), (n, p) -> port(n, p, problems)),
        methods,
        s.strings("users", "a user name"));
  }

  private static Integer port(YamlNode node, String path, Problems problems) {
    Long v = Values.integer(node, path, problems, 1, 65535);
    return v == null ? null : v.intValue();
  }
}
