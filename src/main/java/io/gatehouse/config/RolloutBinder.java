package io.gatehouse.config;

import java.time.Duration;
import java.util.List;

/** Binds a route's {@code rollout} (see {@link RolloutConfig}). */
final class RolloutBinder {
  static final List<String> KEYS = List.of("strategy", "steps", "interval", "slo", "onFailure", "sticky");
  private static final List<String> SLO_KEYS = List.of("maxErrorRate", "maxP99", "minRequests", "vsBaseline");
  private static final List<String> STICKY_KEYS = List.of("cookie", "header", "clientAddress");
  /** RFC 9110 §5.6.2 token: a cookie name (RFC 6265 §4.1.1) and a field name are both one. */
  private static final java.util.regex.Pattern TOKEN = java.util.regex.Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}");

  private RolloutBinder() {}

  /** Null when {@code s} is (no rollout). */
  static RolloutConfig bind(Section s) {
    if (s == null) {
      return null;
    }
    RolloutConfig.Strategy strategy = s.has("strategy")
        ? orDefault(Values.choice(s.get("strategy"), s.path("strategy"), s.problems(), RolloutConfig.Strategy.class),
            RolloutConfig.Strategy.CANARY)
        : RolloutConfig.Strategy.CANARY;
    RolloutConfig.OnFailure onFailure = s.has("onFailure")
        ? orDefault(Values.choice(s.get("onFailure"), s.path("onFailure"), s.problems(), RolloutConfig.OnFailure.class),
            RolloutConfig.OnFailure.ROLLBACK)
        : RolloutConfig.OnFailure.ROLLBACK;
    Duration interval = s.duration("interval", Duration.ofSeconds(30));
    if (interval.toMillis() < 100 || interval.compareTo(Duration.ofHours(24)) > 0) {
      s.problem("interval", interval.toMillis() + "ms (expected: 100ms..24h)");
    }
    return new RolloutConfig(strategy, steps(s), interval, slo(s.section("slo", SLO_KEYS)), onFailure,
        sticky(s.section("sticky", STICKY_KEYS)));
  }

  private static <T> T orDefault(T value, T def) {
    return value == null ? def : value;
  }

  private static List<Integer> steps(Section s) {
    List<Integer> steps = s.items("steps", List.of(5, 25, 50, 100),
        (n, p) -> orDefault(Values.integer(n, p, s.problems(), 1, 100), 100).intValue());
    if (steps.isEmpty()) {
      s.problem("steps", "empty (expected: ascending percentages in 1..100 ending at 100, e.g. [5, 25, 50, 100])");
      return List.of(100);
    }
    for (int i = 1; i < steps.size(); i++) {
      if (steps.get(i) <= steps.get(i - 1)) {
        s.problem("steps", steps + " (expected: ascending percentages in 1..100)");
        return List.of(100);
      }
    }
    if (steps.get(steps.size() - 1) != 100) {
      s.problem("steps", steps + " (expected: the last step is 100)");
      return List.of(100);
    }
    return steps;
  }

  private static RolloutConfig.Slo slo(Section s) {
    RolloutConfig.Slo def = RolloutConfig.Slo.DEFAULT;
    if (s == null) {
      return def;
    }
    double maxErrorRate = def.maxErrorRate();
    if (s.has("maxErrorRate")) {
      Double v = Values.positive(s.get("maxErrorRate"), s.path("maxErrorRate"), s.problems());
      if (v != null && v > 1) {
        s.problem("maxErrorRate", v + " (expected: a rate in 0..1, e.g. 0.01)");
      } else if (v != null) {
        maxErrorRate = v;
      }
    }
    return new RolloutConfig.Slo(maxErrorRate, s.duration("maxP99", def.maxP99()),
        s.integer("minRequests", (int) def.minRequests(), 1, 1_000_000), s.bool("vsBaseline", def.vsBaseline()));
  }

  private static RolloutConfig.Sticky sticky(Section s) {
    if (s == null) {
      return null;
    }
    int set = (s.has("cookie") ? 1 : 0) + (s.has("header") ? 1 : 0) + (s.has("clientAddress") ? 1 : 0);
    if (set != 1) {
      s.problems().add(s.pos(), s.path(), "expected exactly one of: cookie: NAME, header: NAME, clientAddress: true");
      return null;
    }
    if (s.has("clientAddress")) {
      if (!s.bool("clientAddress", false)) {
        s.problem("clientAddress", "false (expected: true, or no sticky)");
        return null;
      }
      return new RolloutConfig.Sticky(null, null, true);
    }
    String key = s.has("cookie") ? "cookie" : "header";
    String name = s.requiredString(key, "a name of token characters");
    if (name != null && !TOKEN.matcher(name).matches()) {
      s.problem(key, "'" + name + "' (expected: a name of 1..64 token characters, e.g. gh_cohort)");
      return null;
    }
    return key.equals("cookie") ? new RolloutConfig.Sticky(name, null, false) : new RolloutConfig.Sticky(null, name, false);
  }
}
