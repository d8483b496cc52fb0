package io.gatehouse.config;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Typed reads of scalar nodes. Each method returns null after adding a problem, so binding goes on
 * and every problem of a file is reported in one run.
 */
final class Values {
  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)");
  private static final Pattern SIZE = Pattern.compile("(\\d+)(B|KiB|MiB|GiB)?");
  static final String DURATION_EXPECTED = "a duration such as 250ms, 1.5s, 10s, 5m, 1h";
  static final String SIZE_EXPECTED = "a size such as 512B, 512KiB, 10MiB, 1GiB";

  private Values() {}

  /** A non-null scalar's text; maps, lists and null are problems. */
  static String text(YamlNode node, String path, Problems problems, String expected) {
    if (node instanceof YamlNode.Scalar s && !s.isNull()) {
      return s.text();
    }
    problems.add(node.pos(), path, YamlNode.kind(node) + " (expected: " + expected + ")");
    return null;
  }

  static Boolean bool(YamlNode node, String path, Problems problems) {
    String text = text(node, path, problems, "true or false");
    if (text == null) {
      return null;
    }
    if (text.equals("true") || text.equals("false")) {
      return Boolean.valueOf(text);
    }
    problems.add(node.pos(), path, "'" + text + "' (expected: true or false)");
    return null;
  }

  static Long integer(YamlNode node, String path, Problems problems, long min, long max) {
    String range = min + ".." + max;
    String text = text(node, path, problems, "an integer " + range);
    if (text == null) {
      return null;
    }
    long value;
    try {
      value = Long.parseLong(text.strip());
    } catch (NumberFormatException e) {
      problems.add(node.pos(), path, "'" + text + "' (expected: an integer " + range + ")");
      return null;
    }
    return inRange(value, node, path, problems, min, max) ? value : null;
  }

  /** A number strictly greater than zero, such as a rate per second. */
  static Double positive(YamlNode node, String path, Problems problems) {
    String text = text(node, path, problems, "a number > 0");
    if (text == null) {
      return null;
    }
    try {
      double value = Double.parseDouble(text.strip());
      if (value > 0 && Double.isFinite(value)) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    problems.add(node.pos(), path, "'" + text + "' (expected: a number > 0)");
    return null;
  }

  /** A positive duration: {@code 250ms}, {@code 1.5s}, {@code 10s}, {@code 5m}, {@code 1h}. */
  static Duration duration(YamlNode node, String path, Problems problems) {
    return duration(node, path, problems, false);
  }

  /** A duration; {@code 0} (any unit, or none) is accepted when {@code zeroAllowed}. */
  static Duration duration(YamlNode node, String path, Problems problems, boolean zeroAllowed) {
    String text = text(node, path, problems, DURATION_EXPECTED);
    if (text == null) {
      return null;
    }
    Matcher m = DURATION.matcher(text.strip());
    if (m.matches()) {
      long unitNanos =
          switch (m.group(2)) {
            case "ms" -> 1_000_000L;
            case "s" -> 1_000_000_000L;
            case "m" -> 60_000_000_000L;
            default -> 3_600_000_000_000L;
          };
      BigDecimal nanos = new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(unitNanos));
      if ((nanos.signum() > 0 || zeroAllowed && nanos.signum() == 0)
          && nanos.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) <= 0) {
        return Duration.ofNanos(nanos.longValue());
      }
    } else if (zeroAllowed && text.strip().equals("0")) {
      return Duration.ZERO;
    }
    problems.add(node.pos(), path, "'" + text + "' (expected: " + DURATION_EXPECTED + (zeroAllowed ? ", or 0" : ", > 0") + ")");
    return null;
  }

  /** A byte size: a plain integer (bytes) or a number with B, KiB, MiB or GiB. */
  static Long size(YamlNode node, String path, Problems problems, long min, long max) {
    String text = text(node, path, problems, SIZE_EXPECTED);
    if (text == null) {
      return null;
    }
    Matcher m = SIZE.matcher(text.strip());
    if (m.matches()) {
      int shift =
          m.group(2) == null
              ? 0
              : switch (m.group(2)) {
                case "KiB" -> 10;
                case "MiB" -> 20;
                case "GiB" -> 30;
                default -> 0;
              };
      try {
        long value = Math.multiplyExact(Long.parseLong(m.group(1)), 1L << shift);
        return inRange(value, node, path, problems, min, max) ? value : null;
      } catch (ArithmeticException | NumberFormatException e) {
        // too large; reported below
      }
    }
    problems.add(node.pos(), path, "'" + text + "' (expected: " + SIZE_EXPECTED + ")");
    return null;
  }

  /** An enum spelled as its lower-case name. */
  static <E extends Enum<E>> E choice(YamlNode node, String path, Problems problems, Class<E> type) {
    String names =
        Arrays.stream(type.getEnumConstants()).map(Values::yamlName).collect(Collectors.joining(", "));
    String text = text(node, path, problems, "one of: " + names);
    if (text == null) {
      return null;
    }
    for (E e : type.getEnumConstants()) {
      if (yamlName(e).equals(text)) {
        return e;
      }
    }
    problems.add(node.pos(), path, "'" + text + "' (expected one of: " + names + ")");
    return null;
  }

  static String yamlName(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }

  private static boolean inRange(
      long value, YamlNode node, String path, Problems problems, long min, long max) {
    if (value >= min && value <= max) {
      return true;
    }
    problems.add(node.pos(), path, value + " (expected: " + min + ".." + max + ")");
    return false;
  }
}
