package io.gatehouse.config;

import java.util.Map;

/**
 * Replaces {@code ${NAME}} and {@code ${NAME:-default}} in scalars; {@code $${} writes a literal
 * {@code ${}. A variable that is not set (and has no default) is a problem, not an empty string,
 * so a forgotten secret never silently becomes "".
 */
final class EnvSubstitution {
  private final Map<String, String> env;

  EnvSubstitution(Map<String, String> env) {
    this.env = env;
  }

  /** The substituted text, or null after reporting a problem (the value then counts as absent). */
  String apply(String text, YamlNode.Pos pos, String path, Problems problems) {
    if (text == null || text.indexOf('$') < 0) {
      return text;
    }
    StringBuilder out = new StringBuilder(text.length());
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c == '$' && text.startsWith("$${", i)) {
        out.append("${");
        i += 3;
      } else if (c == '$' && text.startsWith("${", i)) {
        int close = text.indexOf('}', i + 2);
        if (close < 0) {
          problems.add(pos, path, "unterminated '${' in '" + text + "' (expected: ${NAME} or ${NAME:-default})");
          return null;
        }
        String value = resolve(text.substring(i + 2, close), pos, path, problems);
        if (value == null) {
          return null;
        }
        out.append(value);
        i = close + 1;
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }

  private String resolve(String expr, YamlNode.Pos pos, String path, Problems problems) {
    int sep = expr.indexOf(":-");
    String name = sep < 0 ? expr : expr.substring(0, sep);
    if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      problems.add(pos, path, "bad variable name '" + name + "' (expected: letters, digits and _)");
      return null;
    }
    String value = env.get(name);
    if (value != null) {
      return value;
    }
    if (sep >= 0) {
      return expr.substring(sep + 2);
    }
    problems.add(pos, path, "environment variable '" + name + "' is not set (use ${" + name + ":-default} for a default)");
    return null;
  }
}
