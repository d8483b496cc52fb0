package io.gatehouse.forward;

import java.util.Locale;

/**
 * Where a forward-proxy request goes: parsed from an absolute-form target (RFC 9112 §3.2.2) or a
 * CONNECT authority-form target (§3.2.3). Host names are lower-cased without a trailing dot; IPv6
 * literals are kept without brackets.
 *
 * @param originForm path and query for the origin ({@code /} when the URI had none, {@code *} for such
 *     an OPTIONS); null for CONNECT
 */
record ForwardTarget(String host, int port, String originForm) {

  /** Why a target could not be used: the reply's reason and detail. */
  enum Problem { ORIGIN_FORM, UNSUPPORTED_SCHEME, BAD_AUTHORITY }

  /** A parse result: a target or a problem with a detail for the client. */
  record Parsed(ForwardTarget target, Problem problem, String detail) {
    static Parsed fail(Problem problem, String detail) {
      return new Parsed(null, problem, detail);
    }
  }

  /** The {@code Host} field for the origin: the authority without userinfo (RFC 9110 §7.2). */
  String hostHeader() {
    String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    return port == 80 ? h : h + ":" + port;
  }

  /** {@code host:port} as written in logs and CONNECT lines. */
  String authority() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  /**
   * Parses the request-target of a non-CONNECT request on a forward listener. For an
   * {@code options} request, a URI without a path or a query asks about the origin server itself:
   * its origin-form is {@code *} (RFC 9112 §3.2.4, sent so by the last proxy).
   */
  static Parsed absolute(String uri, boolean options) {
    if (uri.startsWith("/") || uri.equals("*")) {
      return Parsed.fail(Problem.ORIGIN_FORM, "a forward proxy needs an absolute URI (http://host/path), got '"
          + clip(uri) + "'");
    }
    int colon = uri.indexOf("://");
    if (colon <= 0) {
      return Parsed.fail(Problem.BAD_AUTHORITY, "request target '" + clip(uri) + "' is not an absolute URI");
    }
    String scheme = uri.substring(0, colon).toLowerCase(Locale.ROOT);
    if (!scheme.equals("http")) {
      // https:// in absolute form would need TLS to the origin; clients use CONNECT for it.
      return Parsed.fail(Problem.UNSUPPORTED_SCHEME, "scheme '" + clip(scheme) + "' (expected: http, or CONNECT for https)");
    }
    int start = colon + 3;
    int end = start;
    while (end < uri.length() && "/?#".indexOf(uri.charAt(end)) < 0) {
      end++;
    }
    String authority = uri.substring(start, end);
    int at = authority.lastIndexOf('@');
    if (at >= 0) {
      authority = authority.substring(at + 1); // RFC 9110 §4.2.4: userinfo is never sent on
    }
    boolean noPath = end == uri.length() || uri.charAt(end) == '#';
    String path = noPath ? (options ? "*" : "/") : uri.substring(end);
    int hash = path.indexOf('#');
    if (hash >= 0) {
      path = path.substring(0, hash); // fragments are not part of a request target
    }
    if (path.startsWith("?")) {
      path = "/" + path;
    }
    Parsed parsed = hostPort(authority, 80);
    if (parsed.target() == null) {
      return parsed;
    }
    return new Parsed(new ForwardTarget(parsed.target().host(), parsed.target().port(), path), null, null);
  }

  /** Parses a CONNECT target: {@code host:port}, the port required (RFC 9110 §9.3.6). */
  static Parsed connect(String uri) {
    Parsed parsed = hostPort(uri, -1);
    if (parsed.target() != null && parsed.target().originForm() != null) {
      return new Parsed(new ForwardTarget(parsed.target().host(), parsed.target().port(), null), null, null);
    }
    return parsed;
  }

  private static Parsed hostPort(String authority, int defaultPort) {
    String host;
    String portText = null;
    if (authority.startsWith("[")) {
      int close = authority.indexOf(']');
      if (close < 0) {
        return bad(authority);
      }
      host = authority.substring(1, close);
      String rest = authority.substring(close + 1);
      if (!rest.isEmpty()) {
        if (!rest.startsWith(":")) {
          return bad(authority);
        }
        portText = rest.substring(1);
      }
      if (!validIpv6(host)) {
        return bad(authority);
      }
    } else {
      int colon = authority.indexOf(':');
      host = colon < 0 ? authority : authority.substring(0, colon);
      portText = colon < 0 ? null : authority.substring(colon + 1);
      if (!validHostName(host)) {
        return bad(authority);
      }
    }
    int port;
    if (portText == null || portText.isEmpty()) {
      if (defaultPort < 0) {
        return bad(authority);
      }
      port = defaultPort;
    } else {
      port = parsePort(portText);
      if (port < 1) {
        return bad(authority);
      }
    }
    host = host.toLowerCase(Locale.ROOT);
    if (host.endsWith(".")) {
      host = host.substring(0, host.length() - 1);
    }
    return new Parsed(new ForwardTarget(host, port, "/"), null, null);
  }

  private static Parsed bad(String authority) {
    return Parsed.fail(Problem.BAD_AUTHORITY, "bad authority '" + clip(authority) + "' (expected: host:port)");
  }

  private static int parsePort(String text) {
    if (text.isEmpty() || text.length() > 5) {
      return -1;
    }
    int port = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      port = port * 10 + (c - '0');
    }
    return port <= 65535 ? port : -1;
  }

  /** RFC 3986 reg-name restricted to what DNS can carry: letters, digits, '-', '_', '.'. */
  private static boolean validHostName(String host) {
    if (host.isEmpty() || host.length() > 253 || host.startsWith(".") || host.contains("..")) {
      return false;
    }
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (!(Character.isLetterOrDigit(c) && c < 0x80) && c != '-' && c != '.' && c != '_') {
        return false;
      }
    }
    return true;
  }

  private static boolean validIpv6(String host) {
    if (host.isEmpty() || host.indexOf(':') < 0) {
      return false;
    }
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (Character.digit(c, 16) < 0 && c != ':' && c != '.') {
        return false;
      }
    }
    return io.netty.util.NetUtil.isValidIpV6Address(host);
  }

  private static String clip(String s) {
    StringBuilder sb = new StringBuilder(Math.min(s.length(), 100));
    for (int i = 0; i < s.length() && sb.length() < 100; i++) {
      char c = s.charAt(i);
      sb.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return sb.toString();
  }
}
