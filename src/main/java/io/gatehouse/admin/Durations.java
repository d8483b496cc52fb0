package io.gatehouse.admin;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations in admin requests ({@code ?wait=30s}, a deployment's {@code interval}): the config's
 * units {@code ms}, {@code s} and {@code m}. Each caller names its field and checks its own bounds.
 */
final class Durations {
  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m)");

  private Durations() {}

  /** The duration {@code text} says, or null when it is not one. */
  static Duration parseOrNull(String text) {
    Matcher m = DURATION.matcher(text.trim());
    if (!m.matches()) {
      return null;
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      default -> Duration.ofMinutes(n);
    };
  }
}
