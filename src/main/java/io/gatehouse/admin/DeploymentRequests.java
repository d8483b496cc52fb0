package io.gatehouse.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Reads a {@code POST /api/v1/deployments} body; every refusal is a 400 naming the field. A field left
 * out is null: the route's {@code rollout} in the config, or the built-in default, fills it in.
 */
final class DeploymentRequests {
  private static final Set<String> FIELDS = Set.of("route", "to", "strategy", "steps", "interval", "slo", "onFailure",
      "sticky");
  private static final Set<String> SLO_FIELDS = Set.of("maxErrorRate", "maxP99", "minRequests", "vsBaseline");

  private DeploymentRequests() {}

  static AdminBackend.DeploymentRequest parse(String body) {
    JsonNode tree;
    try {
      tree = AdminHandler.JSON.readTree(body);
    } catch (JsonProcessingException e) {
      throw AdminException.badRequest("body", "not JSON: " + e.getOriginalMessage()
          + " (expected: {\"route\":\"app\",\"to\":\"green\", ...})");
    }
    if (tree == null || !tree.isObject()) {
      throw AdminException.badRequest("body", "expected: a JSON object {\"route\":\"app\",\"to\":\"green\", ...}");
    }
    unknownFields(tree, FIELDS, "");
    JsonNode slo = tree.path("slo");
    if (!slo.isMissingNode() && !slo.isObject()) {
      throw AdminException.badRequest("slo", "not an object (expected: {\"maxErrorRate\":0.01, ...})");
    }
    if (slo.isObject()) {
      unknownFields(slo, SLO_FIELDS, "slo.");
    }
    JsonNode interval = tree.get("interval");
    JsonNode maxP99 = slo.get("maxP99");
    return new AdminBackend.DeploymentRequest(
        text(tree, "route", null),
        text(tree, "to", null),
        tree.has("strategy") ? oneOf(tree, "strategy", null, "canary", "bluegreen") : null,
        steps(tree.get("steps")),
        interval == null ? null : duration(interval, "interval", null).toMillis(),
        rate(slo.get("maxErrorRate")),
        maxP99 == null ? null : duration(maxP99, "slo.maxP99", null).toMillis(),
        count(slo.get("minRequests")),
        bool(slo.get("vsBaseline")),
        tree.has("onFailure") ? oneOf(tree, "onFailure", null, "rollback", "stepback", "pause") : null,
        sticky(tree.get("sticky")));
  }

  /** RFC 9110 §5.6.2 token: a cookie name (RFC 6265 §4.1.1) and a field name are both one. */
  private static final java.util.regex.Pattern TOKEN = java.util.regex.Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}");

  private static AdminBackend.Sticky sticky(JsonNode n) {
    if (n == null || n.isNull()) {
      return null;
    }
    String expected = " (expected: {\"cookie\":\"gh_cohort\"}, {\"header\":\"X-User\"} or {\"clientAddress\":true})";
    if (!n.isObject() || n.size() != 1) {
      throw AdminException.badRequest("sticky", "sticky: " + n + expected);
    }
    String kind = n.fieldNames().next();
    JsonNode value = n.get(kind);
    switch (kind) {
      case "cookie", "header" -> {
        if (!value.isTextual() || !TOKEN.matcher(value.asText()).matches()) {
          throw AdminException.badRequest("sticky." + kind, kind + ": " + value + " (expected: a name of 1..64 token characters)");
        }
        return new AdminBackend.Sticky(kind, value.asText());
      }
      case "clientAddress" -> {
        if (!value.isBoolean() || !value.asBoolean()) {
          throw AdminException.badRequest("sticky.clientAddress", "clientAddress: " + value + " (expected: true)");
        }
        return new AdminBackend.Sticky(kind, null);
      }
      default -> throw AdminException.badRequest("sticky." + kind, "unknown field" + expected);
    }
  }

  private static void unknownFields(JsonNode node, Set<String> known, String prefix) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!known.contains(name)) {
        throw AdminException.badRequest(prefix + name, "unknown field (expected: one of " + known + ")");
      }
    }
  }

  private static String text(JsonNode tree, String field, String fallback) {
    JsonNode n = tree.get(field);
    if (n == null && fallback != null) {
      return fallback;
    }
    if (n == null || !n.isTextual() || n.asText().isEmpty()) {
      throw AdminException.badRequest(field, "missing or not a string");
    }
    return n.asText();
  }

  private static String oneOf(JsonNode tree, String field, String fallback, String... values) {
    String v = text(tree, field, fallback);
    if (!List.of(values).contains(v)) {
      throw AdminException.badRequest(field, field + ": '" + v + "' (expected: one of " + List.of(values) + ")");
    }
    return v;
  }

  private static List<Integer> steps(JsonNode n) {
    if (n == null) {
      return null;
    }
    if (!n.isArray() || n.isEmpty()) {
      throw AdminException.badRequest("steps", "not a non-empty array (expected: e.g. [5,25,50,100])");
    }
    List<Integer> steps = new ArrayList<>();
    int last = 0;
    for (int i = 0; i < n.size(); i++) {
      JsonNode s = n.get(i);
      if (!s.isIntegralNumber() || s.asInt() <= last || s.asInt() > 100) {
        throw AdminException.badRequest("steps[" + i + "]", "step: " + s + " (expected: ascending percentages in 1..100)");
      }
      last = s.asInt();
      steps.add(last);
    }
    if (last != 100) {
      throw AdminException.badRequest("steps", "steps: " + steps + " (expected: the last step is 100)");
    }
    return steps;
  }

  static Duration duration(JsonNode n, String field, Duration fallback) {
    if (n == null) {
      return fallback;
    }
    Duration d = Durations.parseOrNull(n.isTextual() ? n.asText() : "");
    if (d == null) {
      throw AdminException.badRequest(field, field + ": " + n + " (expected: a duration such as 500ms, 30s, 2m)");
    }
    if (d.toMillis() < 100 || d.compareTo(Duration.ofHours(24)) > 0) {
      throw AdminException.badRequest(field, field + ": " + n + " (expected: 100ms..24h)");
    }
    return d;
  }

  private static Double rate(JsonNode n) {
    if (n == null) {
      return null;
    }
    if (!n.isNumber() || n.asDouble() < 0 || n.asDouble() > 1) {
      throw AdminException.badRequest("slo.maxErrorRate", "maxErrorRate: " + n + " (expected: a number in 0..1)");
    }
    return n.asDouble();
  }

  private static Long count(JsonNode n) {
    if (n == null) {
      return null;
    }
    if (!n.isIntegralNumber() || n.asLong() < 1) {
      throw AdminException.badRequest("slo.minRequests", "minRequests: " + n + " (expected: an integer >= 1)");
    }
    return n.asLong();
  }

  private static Boolean bool(JsonNode n) {
    if (n == null) {
      return null;
    }
    if (!n.isBoolean()) {
      throw AdminException.badRequest("slo.vsBaseline", "vsBaseline: " + n + " (expected: true or false)");
    }
    return n.asBoolean();
  }
}
