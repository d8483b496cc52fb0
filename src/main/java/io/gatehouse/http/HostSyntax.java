package io.gatehouse.http;

import io.netty.util.NetUtil;

/**
 * The {@code Host} field value grammar (RFC 9110 §7.2: {@code uri-host [ ":" port ]}, with
 * {@code uri-host} as RFC 3986 §3.2.2 defines {@code host}): a reg-name (which covers IPv4), an
 * IP-literal in brackets, then optional port digits. No user info, no spaces, no control bytes:
 * a Host outside this grammar is what makes routing and upstream parsers disagree, so it is refused
 * (RFC 9112 §3.2: 400 for a Host field with an invalid value).
 */
final class HostSyntax {
  private HostSyntax() {}

  static boolean valid(String value) {
    int end = value.length();
    int hostEnd;
    if (end > 0 && value.charAt(0) == '[') {
      int close = value.indexOf(']');
      if (close < 0 || !ipLiteral(value.substring(1, close))) {
        return false;
      }
      hostEnd = close + 1;
    } else {
      int colon = value.indexOf(':');
      hostEnd = colon < 0 ? end : colon;
      if (!regName(value, hostEnd)) {
        return false;
      }
    }
    if (hostEnd == end) {
      return true;
    }
    if (value.charAt(hostEnd) != ':') {
      return false;
    }
    for (int i = hostEnd + 1; i < end; i++) { // port = *DIGIT
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  /** reg-name = *( unreserved / pct-encoded / sub-delims ). */
  private static boolean regName(String s, int end) {
    for (int i = 0; i < end; i++) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 2 >= end || !hex(s.charAt(i + 1)) || !hex(s.charAt(i + 2))) {
          return false;
        }
        i += 2;
      } else if (!unreserved(c) && !subDelim(c)) {
        return false;
      }
    }
    return true;
  }

  /** IP-literal = "[" ( IPv6address / IPvFuture ) "]"; IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ). */
  private static boolean ipLiteral(String inner) {
    if (inner.isEmpty()) {
      return false;
    }
    if (inner.charAt(0) != 'v' && inner.charAt(0) != 'V') {
      return NetUtil.isValidIpV6Address(inner) && inner.indexOf('%') < 0; // no zone id (RFC 6874 is not HTTP)
    }
    int dot = inner.indexOf('.');
    if (dot < 2 || dot == inner.length() - 1) {
      return false;
    }
    for (int i = 1; i < dot; i++) {
      if (!hex(inner.charAt(i))) {
        return false;
      }
    }
    for (int i = dot + 1; i < inner.length(); i++) {
      char c = inner.charAt(i);
      if (!unreserved(c) && !subDelim(c) && c != ':') {
        return false;
      }
    }
    return true;
  }

  private static boolean unreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
  }

  private static boolean subDelim(char c) {
    return "!$&'()*+,;=".indexOf(c) >= 0;
  }

  private static boolean hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }
}
