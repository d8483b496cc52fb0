package io.gatehouse.reverse;

import io.gatehouse.http.MessageFields;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import java.util.Locale;

/**
 * The host and path a reverse request is routed by: from the Host header for origin-form targets,
 * from the target itself for absolute-form ones (RFC 9112 §3.2.2, which then wins over Host).
 *
 * @param path the path routed by ({@code /} for OPTIONS's asterisk-form)
 * @param originForm the target to send upstream
 * @param absoluteForm whether the client sent an absolute-form target (its authority then replaces Host)
 */
record RequestTarget(String host, String authority, String path, String originForm, boolean absoluteForm) {

  /**
   * Null when the target is unusable. A fragment ({@code #...}) is not part of a request target
   * (RFC 9112 §3.2; clients keep it to themselves, RFC 9110 §4.2.5): it is dropped, as the forward
   * proxy drops it, so the path routed and sent on is the one an origin would serve, whatever it
   * makes of a {@code #}.
   */
  static RequestTarget of(HttpRequest request) {
    String uri = request.uri();
    int hash = uri.indexOf('#');
    if (hash >= 0) {
      uri = uri.substring(0, hash);
    }
    if (uri.startsWith("/")) {
      String authority = MessageFields.of(request).get(HttpHeaderNames.HOST);
      return new RequestTarget(hostOf(authority), authority, pathOf(uri), uri, false);
    }
    if ("*".equals(uri)) {
      // RFC 9112 §3.2.4: the asterisk-form is only OPTIONS's, asking about the server as a whole:
      // it is routed as the host's root and goes on as "*" to the server that answers for it.
      if (!HttpMethod.OPTIONS.equals(request.method())) {
        return null;
      }
      String authority = MessageFields.of(request).get(HttpHeaderNames.HOST);
      return new RequestTarget(hostOf(authority), authority, "/", uri, false);
    }
    String lower = uri.length() > 8 ? uri.substring(0, 8).toLowerCase(Locale.ROOT) : uri.toLowerCase(Locale.ROOT);
    int schemeEnd = lower.startsWith("http://") ? 7 : lower.startsWith("https://") ? 8 : -1;
    if (schemeEnd < 0) {
      return null;
    }
    int slash = uri.indexOf('/', schemeEnd);
    int query = uri.indexOf('?', schemeEnd);
    int end = slash >= 0 ? slash : query >= 0 ? query : uri.length();
    String authority = uri.substring(schemeEnd, end);
    if (authority.isEmpty() || authority.indexOf('@') >= 0) {
      return null;
    }
    String originForm = slash >= 0 ? uri.substring(slash) : "/" + (query >= 0 ? uri.substring(query) : "");
    return new RequestTarget(hostOf(authority), authority, pathOf(originForm), originForm, true);
  }

  private static String pathOf(String originForm) {
    int q = originForm.indexOf('?');
    return q < 0 ? originForm : originForm.substring(0, q);
  }

  /**
   * This target with its path normalized (see {@link PathNormalizer}); the same when already normal;
   * null when the path's percent-encoding is malformed.
   */
  RequestTarget normalized() {
    if ("*".equals(originForm)) {
      return this;
    }
    String normal = PathNormalizer.normalize(path);
    if (normal == null) {
      return null;
    }
    if (normal.equals(path)) {
      return this;
    }
    String query = originForm.length() > path.length() ? originForm.substring(path.length()) : "";
    return new RequestTarget(host, authority, normal, normal + query, absoluteForm);
  }

  /**
   * Host without port, lower-cased; IPv6 literals keep their brackets. A name's trailing dot is
   * dropped: {@code api.example.com.} is the same DNS name as {@code api.example.com} and is routed
   * as it (nginx strips it too). Null stays null.
   */
  static String hostOf(String authority) {
    if (authority == null) {
      return null;
    }
    if (authority.startsWith("[")) {
      int close = authority.indexOf(']');
      return close < 0 ? authority : authority.substring(0, close + 1).toLowerCase(Locale.ROOT);
    }
    int colon = authority.indexOf(':');
    int end = colon < 0 ? authority.length() : colon;
    if (end > 1 && authority.charAt(end - 1) == '.') {
      end--;
    }
    return authority.substring(0, end).toLowerCase(Locale.ROOT);
  }
}
