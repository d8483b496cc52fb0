package io.gatehouse.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Collects every problem of one load, and remembers where each config path was written so that
 * cross-checks done after binding can still report a file position.
 */
final class Problems {
  private record Located(String path, YamlNode.Pos pos) {}

  private final String file;
  private final List<ConfigProblem> problems = new ArrayList<>();
  private final Map<String, Located> positions = new HashMap<>();
  private final Set<String> reported = new HashSet<>();

  Problems(String file) {
    this.file = file;
  }

  /**
   * Adds a problem unless this path already has one: the first problem at a value is the cause,
   * later ones (such as "missing" after a failed substitution) only repeat it.
   */
  void add(YamlNode.Pos pos, String path, String message) {
    if (!path.isEmpty() && !reported.add(path)) {
      return;
    }
    problems.add(new ConfigProblem(file, pos.line(), pos.column(), path, message));
  }

  /** Reports a problem at a path recorded while binding (see {@link #remember}). */
  void at(String path, String message) {
    Located located = positions.getOrDefault(path, new Located(path, YamlNode.Pos.UNKNOWN));
    add(located.pos(), located.path(), message);
  }

  void remember(String path, YamlNode.Pos pos) {
    positions.putIfAbsent(path, new Located(path, pos));
  }

  /** Makes {@code canonical} report at {@code written}, for shorthands such as a route's {@code cluster}. */
  void alias(String canonical, String written) {
    Located located = positions.get(written);
    if (located != null) {
      positions.put(canonical, located);
    }
  }

  boolean isEmpty() {
    return problems.isEmpty();
  }

  /** Problems in file order; problems without a position come first. */
  List<ConfigProblem> sorted() {
    List<ConfigProblem> out = new ArrayList<>(problems);
    out.sort(Comparator.comparingInt(ConfigProblem::line).thenComparingInt(ConfigProblem::column));
    return out;
  }
}
