package io.gatehouse.deploy;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Map;

/**
 * How a client keeps its cohort (the baseline or the target) while a deployment splits a route:
 * a cohort cookie the proxy sets, or a stable hash of a request header or of the client address.
 * Written and read in the contract's form: {@code {"cookie":"gh_cohort"}}, {@code {"header":"X-User"}}
 * or {@code {"clientAddress":true}}.
 *
 * @param name the cookie's or the header's name; null for the client address
 */
public record Sticky(Kind kind, String name) {
  public enum Kind { COOKIE, HEADER, CLIENT_ADDRESS }

  public Sticky {
    if ((kind == Kind.CLIENT_ADDRESS) != (name == null)) {
      throw new IllegalArgumentException("sticky: " + kind + " " + name + " (expected: a name for cookie and header only)");
    }
  }

  public static Sticky cookie(String name) {
    return new Sticky(Kind.COOKIE, name);
  }

  public static Sticky header(String name) {
    return new Sticky(Kind.HEADER, name);
  }

  public static Sticky clientAddress() {
    return new Sticky(Kind.CLIENT_ADDRESS, null);
  }

  @JsonValue
  public Map<String, Object> json() {
    return switch (kind) {
      case COOKIE -> Map.of("cookie", name);
      case HEADER -> Map.of("header", name);
      case CLIENT_ADDRESS -> Map.of("clientAddress", true);
    };
  }

  @JsonCreator
  public static Sticky of(Map<String, Object> json) {
    if (json.size() == 1 && json.get("cookie") instanceof String name) {
      return cookie(name);
    }
    if (json.size() == 1 && json.get("header") instanceof String name) {
      return header(name);
    }
    if (json.size() == 1 && Boolean.TRUE.equals(json.get("clientAddress"))) {
      return clientAddress();
    }
    throw new IllegalArgumentException("sticky: " + json
        + " (expected: {\"cookie\":NAME}, {\"header\":NAME} or {\"clientAddress\":true})");
  }

  @Override
  public String toString() {
    return kind == Kind.CLIENT_ADDRESS ? "clientAddress" : kind.name().toLowerCase(java.util.Locale.ROOT) + " " + name;
  }
}
