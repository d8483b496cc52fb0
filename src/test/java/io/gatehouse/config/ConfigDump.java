package io.gatehouse.config;

import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.List;

/**
 * Renders a config as indented text, one component per line, for golden files. Absolute paths
 * under the working directory are shown relative to it so the output is the same on every machine.
 */
final class ConfigDump {
  private final String base = Path.of("").toAbsolutePath() + "/";
  private final StringBuilder out = new StringBuilder();

  static String dump(Object config) {
    ConfigDump d = new ConfigDump();
    d.value(config, 0);
    return d.out.toString();
  }

  /** Strips the working directory from absolute paths in text, such as problem messages. */
  static String relativize(String text) {
    return text.replace(Path.of("").toAbsolutePath() + "/", "");
  }

  private void value(Object v, int indent) {
    if (v instanceof Record r) {
      out.append(r.getClass().getSimpleName()).append('\n');
      for (RecordComponent c : r.getClass().getRecordComponents()) {
        line(indent + 1).append(c.getName()).append(": ");
        value(get(c, r), indent + 1);
      }
    } else if (v instanceof List<?> list) {
      out.setLength(out.length() - 1); // no trailing space after "name:"
      out.append(list.isEmpty() ? " []\n" : "\n");
      for (Object item : list) {
        line(indent + 1).append("- ");
        value(item, indent + 2);
      }
    } else if (v instanceof String s) {
      out.append('"').append(s.replace(base, "")).append("\"\n");
    } else if (v instanceof Path p) {
      out.append(p.toString().replace(base, "")).append('\n');
    } else {
      out.append(v).append('\n');
    }
  }

  private StringBuilder line(int indent) {
    return out.append("  ".repeat(indent));
  }

  private static Object get(RecordComponent c, Record r) {
    try {
      return c.getAccessor().invoke(r);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }
}
