package io.gatehouse.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * A YAML map being bound to a record. The known keys are declared up front so an unknown key is
 * reported with the full list of what was expected. Getters return the default when a key is
 * absent or null, and also after reporting a bad value (the load fails anyway).
 */
final class Section {
  private final Map<String, YamlNode.Entry> entries;
  private final YamlNode.Pos pos;
  private final String path;
  private final Problems problems;
  private final Path baseDir;

  private Section(
      Map<String, YamlNode.Entry> entries, YamlNode.Pos pos, String path, Problems problems, Path baseDir) {
    this.entries = entries;
    this.pos = pos;
    this.path = path;
    this.problems = problems;
    this.baseDir = baseDir;
  }

  /** Binds {@code node} as a map; a non-map is reported and treated as an empty map. */
  static Section of(YamlNode node, String path, Problems problems, Path baseDir, List<String> known) {
    if (!(node instanceof YamlNode.MapNode map)) {
      problems.add(node.pos(), path, YamlNode.kind(node) + " (expected: a map with keys " + String.join(", ", known) + ")");
      return new Section(Map.of(), node.pos(), path, problems, baseDir);
    }
    for (YamlNode.Entry e : map.entries().values()) {
      if (!known.contains(e.key())) {
        problems.add(e.keyPos(), Paths.child(path, e.key()),
            "unknown key '" + e.key() + "' (expected one of: " + String.join(", ", known) + ")");
      }
    }
    problems.remember(path, node.pos());
    return new Section(map.entries(), node.pos(), path, problems, baseDir);
  }

  String path() {
    return path;
  }

  String path(String key) {
    return Paths.child(path, key);
  }

  YamlNode.Pos pos() {
    return pos;
  }

  Problems problems() {
    return problems;
  }

  Path baseDir() {
    return baseDir;
  }

  /** The value of {@code key}, or null when absent or YAML null. */
  YamlNode get(String key) {
    YamlNode.Entry e = entries.get(key);
    if (e == null || (e.value() instanceof YamlNode.Scalar s && s.isNull())) {
      return null;
    }
    problems.remember(path(key), e.value().pos());
    return e.value();
  }

  boolean has(String key) {
    return get(key) != null;
  }

  /** Reports a problem about this map's value of {@code key} (or the map itself when absent). */
  void problem(String key, String message) {
    YamlNode node = get(key);
    problems.add(node == null ? pos : node.pos(), path(key), message);
  }

  void missing(String key, String expected) {
    problems.add(pos, path(key), "missing (expected: " + expected + ")");
  }

  Section section(String key, List<String> known) {
    YamlNode node = get(key);
    return node == null ? null : of(node, path(key), problems, baseDir, known);
  }

  String string(String key, String def) {
    YamlNode node = get(key);
    if (node == null) {
      return def;
    }
    String text = Values.text(node, path(key), problems, "a string");
    return text == null ? def : text;
  }

  String requiredString(String key, String expected) {
    YamlNode node = get(key);
    if (node == null) {
      missing(key, expected);
      return null;
    }
    String text = Values.text(node, path(key), problems, expected);
    if (text != null && text.isBlank()) {
      problems.add(node.pos(), path(key), "empty (expected: " + expected + ")");
      return null;
    }
    return text;
  }

  boolean bool(String key, boolean def) {
    YamlNode node = get(key);
    Boolean b = node == null ? null : Values.bool(node, path(key), problems);
    return b == null ? def : b;
  }

  int integer(String key, int def, int min, int max) {
    YamlNode node = get(key);
    Long v = node == null ? null : Values.integer(node, path(key), problems, min, max);
    return v == null ? def : v.intValue();
  }

  Duration duration(String key, Duration def) {
    YamlNode node = get(key);
    Duration d = node == null ? null : Values.duration(node, path(key), problems);
    return d == null ? def : d;
  }

  /** A duration where {@code 0} is meaningful (for example "no deadline"). */
  Duration durationOrZero(String key, Duration def) {
    YamlNode node = get(key);
    Duration d = node == null ? null : Values.duration(node, path(key), problems, true);
    return d == null ? def : d;
  }

  long size(String key, long def, long min, long max) {
    YamlNode node = get(key);
    Long v = node == null ? null : Values.size(node, path(key), problems, min, max);
    return v == null ? def : v;
  }

  <E extends Enum<E>> E choice(String key, E def, Class<E> type) {
    YamlNode node = get(key);
    E e = node == null ? null : Values.choice(node, path(key), problems, type);
    return e == null ? def : e;
  }

  /** A file path relative to the config file's directory; it must exist. */
  Path file(String key, String expected) {
    String text = requiredString(key, expected);
    if (text == null) {
      return null;
    }
    Path file = baseDir.resolve(text).normalize();
    if (!Files.isRegularFile(file)) {
      problem(key, "file not found: " + file + " (expected: " + expected + ")");
    }
    return file;
  }

  /** The items of a list; a non-list is reported and yields an empty list. Null when absent. */
  List<YamlNode> list(String key) {
    YamlNode node = get(key);
    if (node == null) {
      return null;
    }
    if (node instanceof YamlNode.ListNode list) {
      for (int i = 0; i < list.items().size(); i++) {
        problems.remember(Paths.index(path(key), i), list.items().get(i).pos());
      }
      return list.items();
    }
    problems.add(node.pos(), path(key), YamlNode.kind(node) + " (expected: a list)");
    return List.of();
  }

  /**
   * Converts each item of a list with {@code convert(item, itemPath)}, dropping items it rejects
   * (returns null for). Returns {@code def} when the key is absent.
   */
  <T> List<T> items(String key, List<T> def, BiFunction<YamlNode, String, T> convert) {
    List<YamlNode> nodes = list(key);
    if (nodes == null) {
      return def;
    }
    List<T> out = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      T value = convert.apply(nodes.get(i), Paths.index(path(key), i));
      if (value != null) {
        out.add(value);
      }
    }
    return out;
  }

  List<String> strings(String key, String expected) {
    return items(key, List.of(), (n, p) -> Values.text(n, p, problems, expected));
  }
}
