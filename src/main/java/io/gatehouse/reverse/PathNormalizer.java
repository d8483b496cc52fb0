package io.gatehouse.reverse;

/**
 * Normalizes a request path before it is routed, so that a route's prefix can be neither escaped
 * nor dodged: two spellings of one URI (RFC 3986 §6.2.2) are routed alike.
 *
 * <ul>
 *   <li>A percent-encoded unreserved character ({@code ALPHA DIGIT - . _ ~}) is decoded (§6.2.2.2):
 *       {@code /%61dmin} is {@code /admin}, as every origin reads it, and {@code %2e} is a dot.
 *       Other percent-encodings ({@code %2F}, {@code %20}, UTF-8 bytes) are kept as they are: they
 *       mean something else than the character they encode.
 *   <li>Dot-segments are removed (§5.2.4 remove_dot_segments): {@code /static/../admin} is
 *       {@code /admin}; empty segments ({@code //}) are merged.
 * </ul>
 *
 * A {@code %} not followed by two hex digits is not a URI, and {@code %00} is a NUL that origins
 * written in C read as the path's end: both are refused (nginx refuses them too). The normalized path
 * is also what is forwarded: the upstream serves what was routed.
 */
final class PathNormalizer {
  private PathNormalizer() {}

  /**
   * {@code path} (starting with '/', no query) normalized; the same instance when already normal;
   * null when it holds a malformed percent-encoding or an encoded NUL.
   */
  static String normalize(String path) {
    if (!needsWork(path)) {
      return path;
    }
    String decoded = decodeUnreserved(path);
    if (decoded == null) {
      return null;
    }
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

  /** The path with its encoded unreserved characters decoded; null when an encoding is malformed or NUL. */
  private static String decodeUnreserved(String path) {
    int percent = path.indexOf('%');
    if (percent < 0) {
      return path;
    }
    StringBuilder sb = new StringBuilder(path.length());
    int from = 0;
    while (percent >= 0) {
      if (percent + 2 >= path.length()) {
        return null;
      }
      int high = hex(path.charAt(percent + 1));
      int low = hex(path.charAt(percent + 2));
      if (high < 0 || low < 0 || (high | low) == 0) {
        return null;
      }
      char c = (char) (high << 4 | low);
      sb.append(path, from, percent);
      if (isUnreserved(c)) {
        sb.append(c);
      } else {
        sb.append(path, percent, percent + 3);
      }
      from = percent + 3;
      percent = path.indexOf('%', from);
    }
    return sb.append(path, from, path.length()).toString();
  }

  /** The value of an ASCII hex digit (RFC 5234 HEXDIG, either case), -1 for anything else. */
  private static int hex(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    char lower = (char) (c | 0x20);
    return lower >= 'a' && lower <= 'f' ? lower - 'a' + 10 : -1;
  }

  private static boolean isUnreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '.' || c == '_' || c == '~';
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
