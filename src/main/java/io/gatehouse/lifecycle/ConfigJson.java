package io.gatehouse.lifecycle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The running config as a JSON tree for {@code GET /api/v1/config}, walked from the config records
 * so a new key shows without code here. Secrets are redacted by component name: the admin token,
 * passwords, private keys and the password file (never their values or paths).
 */
final class ConfigJson {
  static final String REDACTED = "<redacted>";
  private static final Set<String> SECRET = Set.of("token", "password", "key", "users", "secret");
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private ConfigJson() {}

  static JsonNode of(Object value) {
    if (value == null) {
      return NODES.nullNode();
    }
    if (value instanceof Record record) {
      ObjectNode node = NODES.objectNode();
      for (RecordComponent c : record.getClass().getRecordComponents()) {
        Object v = get(c, record);
        if (SECRET.contains(c.getName().toLowerCase(Locale.ROOT))) {
          node.set(c.getName(), v == null ? NODES.nullNode() : NODES.textNode(REDACTED));
        } else {
          node.set(c.getName(), of(v));
        }
      }
      return node;
    }
    if (value instanceof Collection<?> list) {
      ArrayNode node = NODES.arrayNode();
      list.forEach(item -> node.add(of(item)));
      return node;
    }
    if (value instanceof Map<?, ?> map) {
      ObjectNode node = NODES.objectNode();
      map.forEach((k, v) -> node.set(String.valueOf(k), of(v)));
      return node;
    }
    if (value instanceof Boolean b) {
      return NODES.booleanNode(b);
    }
    if (value instanceof Integer || value instanceof Long) {
      return NODES.numberNode(((Number) value).longValue());
    }
    if (value instanceof Number n) {
      return NODES.numberNode(n.doubleValue());
    }
    if (value instanceof Duration d) {
      return NODES.textNode(d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms");
    }
    if (value instanceof Enum<?> e) {
      return NODES.textNode(e.name().toLowerCase(Locale.ROOT));
    }
    if (value instanceof Path p) {
      return NODES.textNode(p.toString());
    }
    return NODES.textNode(String.valueOf(value));
  }

  private static Object get(RecordComponent c, Record r) {
    try {
      c.getAccessor().setAccessible(true);
      return c.getAccessor().invoke(r);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot read " + c.getName() + " of " + r.getClass().getSimpleName(), e);
    }
  }
}
