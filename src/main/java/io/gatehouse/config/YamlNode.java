package io.gatehouse.config;

import java.util.List;
import java.util.Map;

/** A YAML value that remembers where it was written, so every problem can name its position. */
sealed interface YamlNode permits YamlNode.Scalar, YamlNode.MapNode, YamlNode.ListNode {

  Pos pos();

  /** 1-based line and column; 0 when unknown. */
  record Pos(int line, int column) {
    static final Pos UNKNOWN = new Pos(0, 0);
  }

  /** A scalar after {@code ${VAR}} substitution; {@code text} is null for YAML null ({@code ~}, empty). */
  record Scalar(String text, Pos pos) implements YamlNode {
    boolean isNull() {
      return text == null;
    }
  }

  /** A mapping; entries keep the order of the file. */
  record MapNode(Map<String, Entry> entries, Pos pos) implements YamlNode {}

  /** One mapping entry with the position of its key. */
  record Entry(String key, Pos keyPos, YamlNode value) {}

  record ListNode(List<YamlNode> items, Pos pos) implements YamlNode {}

  /** A short name of the node kind for "expected a map, got a list" messages. */
  static String kind(YamlNode node) {
    if (node instanceof MapNode) {
      return "a map";
    }
    if (node instanceof ListNode) {
      return "a list";
    }
    Scalar s = (Scalar) node;
    return s.isNull() ? "null" : "'" + s.text() + "'";
  }
}
