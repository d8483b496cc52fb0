package io.gatehouse.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Pattern;

/** Syntax checks for addresses, CIDR blocks and host patterns; never resolves names (no DNS). */
final class Addresses {
  private static final Pattern IPV4 = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");
  private static final Pattern HOST = Pattern.compile("(\\*\\.)?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*");

  private Addresses() {}

  /** {@code host:port} with port in {@code minPort..65535}; null after reporting a problem. */
  static HostPort hostPort(YamlNode node, String path, Problems problems, int minPort) {
    String text = Values.text(node, path, problems, "host:port");
    if (text == null) {
      return null;
    }
    try {
      HostPort hp = HostPort.parse(text.strip());
      if (hp.host().isEmpty()) {
        problems.add(node.pos(), path, "'" + text + "' has no host (expected: host:port)");
        return null;
      }
      if (hp.port() < minPort) {
        problems.add(node.pos(), path, "port " + hp.port() + " in '" + text + "' (expected: " + minPort + "..65535)");
        return null;
      }
      return new HostPort(hp.host().toLowerCase(Locale.ROOT), hp.port());
    } catch (IllegalArgumentException e) {
      problems.add(node.pos(), path, e.getMessage());
      return null;
    }
  }

  static boolean isLoopback(String host) {
    return host.equals("localhost") || host.equals("::1") || host.equals("0:0:0:0:0:0:0:1")
        || (isIpv4(host) && host.startsWith("127."));
  }

  static boolean isWildcard(String host) {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("*");
  }

  /** Checks an IP address or CIDR block, v4 or v6; returns why it is bad, or null when fine. */
  static String cidrProblem(String text) {
    int slash = text.indexOf('/');
    String ip = slash < 0 ? text : text.substring(0, slash);
    int maxBits;
    if (isIpv4(ip)) {
      maxBits = 32;
    } else if (isIpv6(ip)) {
      maxBits = 128;
    } else {
      return "'" + text + "' is not an IP address or CIDR block (expected: such as 10.0.0.0/8, 192.168.1.7, ::1/128)";
    }
    if (slash >= 0) {
      String bits = text.substring(slash + 1);
      if (!bits.matches("\\d{1,3}") || Integer.parseInt(bits) > maxBits) {
        return "bad prefix length '" + bits + "' in '" + text + "' (expected: 0.." + maxBits + ")";
      }
    }
    return null;
  }

  /** Checks an exact host name or {@code *.suffix} (already lower-cased); null when fine. */
  static String hostPatternProblem(String text) {
    if (HOST.matcher(text).matches() || isIpv6(text)) {
      return null;
    }
    return "'" + text + "' is not a host name (expected: such as example.com or *.example.com)";
  }

  static boolean isIpv4(String s) {
    var m = IPV4.matcher(s);
    if (!m.matches()) {
      return false;
    }
    for (int i = 1; i <= 4; i++) {
      if (Integer.parseInt(m.group(i)) > 255) {
        return false;
      }
    }
    return true;
  }

  static boolean isIpv6(String s) {
    if (s.indexOf(':') < 0 || !s.matches("[0-9A-Fa-f:.]+")) {
      return false;
    }
    try {
      // A literal containing ':' is parsed, never resolved.
      InetAddress.getByName(s);
      return true;
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
