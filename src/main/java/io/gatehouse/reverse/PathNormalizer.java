package io.gatehouse.reverse;

/**
 * Normalizes a request path before it is routed, so that a route's prefix cannot be escaped with
 * dot-segments: {@code /static/../admin} is {@code /admin} (RFC 3986 §5.2.4 remove_dot_segments).
 * Percent-encoded dots ({@code %2e}) count as dots, since many upstreams decode them before
 * resolving the path; empty segments ({@code //}) are merged. Other percent-encodings are kept as
 * they are. The normalized path is also what is forwarded: the upstream serves what was routed.
 */
final class PathNormalizer {
  private PathNormalizer() {}

  /** {@code path} (starting with '/', no query) normalized; the same instance when already normal. */
  static String normalize(String path) {
    if (!needsWork(path)) {
      return path;
    }
    String decoded = path.replace("%2e", ".").replace("%2E", ".");
    String[] segments = decoded.split("/", -1);
    String[] out = new String[segments.length];
    int n = 0;
    for (int i = 1; i < segments.length; i++) {
      String segment = segments[i];
      boolean last = i == segments.length - 1;
      if (segment.equals(".") || (segment.isEmpty() && !last)) {
        continue;
      }
      if (segment.equals("..")) {
        if (n > 0) {
          n--;
        }
        continue;
      }
      out[n++] = segment;
    }
    StringBuilder sb = new StringBuilder(decoded.length());
    for (int i = 0; i < n; i++) {
      sb.append('/').append(out[i]);
    }
    String last = segments[segments.length - 1];
    if (n == 0 || last.equals(".") || last.equals("..")) {
      sb.append('/'); // a path that ends in a directory keeps its trailing slash
    }
    String normal = sb.toString();
    return normal.equals(path) ? path : normal;
  }

  private static boolean needsWork(String path) {
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '%' || (c == '/' && i + 1 < path.length() && path.charAt(i + 1) == '/')) {
        return true;
      }
      if (c == '.' && path.charAt(i - 1) == '/') {
        return true;
      }
    }
    return false;
  }
}
