package io.gatehouse.config;

/** A {@code host:port} pair as written in the config; IPv6 literals are kept without brackets. */
public record HostPort(String host, int port) {

  /** Parses {@code host:port} or {@code [v6]:port}; throws IllegalArgumentException with the reason. */
  public static HostPort parse(String text) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("empty address (expected: host:port)");
    }
    String host;
    String port;
    if (text.startsWith("[")) {
      int close = text.indexOf(']');
      if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
        throw new IllegalArgumentException("bad address '" + text + "' (expected: [ipv6]:port)");
      }
      host = text.substring(1, close);
      port = text.substring(close + 2);
    } else {
      int colon = text.lastIndexOf(':');
      if (colon <= 0 || text.indexOf(':') != colon) {
        throw new IllegalArgumentException("bad address '" + text + "' (expected: host:port)");
      }
      host = text.substring(0, colon);
      port = text.substring(colon + 1);
    }
    int p;
    try {
      p = Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad port '" + port + "' in '" + text + "' (expected: 0..65535)");
    }
    if (p < 0 || p > 65535) {
      throw new IllegalArgumentException("bad port " + p + " in '" + text + "' (expected: 0..65535)");
    }
    return new HostPort(host, p);
  }

  @Override
  public String toString() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
