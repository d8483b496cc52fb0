package io.gatehouse.listener;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * RFC 9113's rules for a request, written from the RFC and independent of Netty: what makes the
 * header block a client sent malformed (§8.1.1, §8.2, §8.3), and what a request handed to the proxy
 * handler (and so to an upstream) must look like.
 */
final class H2Oracle {
  private static final Set<String> CONNECTION_SPECIFIC =
      Set.of("connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade");
  private static final Set<String> REQUEST_PSEUDO = Set.of(":method", ":scheme", ":path", ":authority");

  private H2Oracle() {}

  /** Why a request's header block is malformed, or null if it is well-formed. */
  static String malformed(List<String[]> fields) {
    Set<String> pseudo = new HashSet<>();
    boolean regular = false;
    String method = null;
    String path = null;
    for (String[] field : fields) {
      String name = field[0];
      String value = field[1];
      if (name.isEmpty()) {
        return "empty name";
      }
      for (int i = name.startsWith(":") ? 1 : 0; i < name.length(); i++) {
        char c = name.charAt(i);
        if (c <= 0x20 || (c >= 'A' && c <= 'Z') || c >= 0x7f || c == ':') {
          return "name " + name + " has a character §8.2.1 forbids";
        }
      }
      for (int i = 0; i < value.length(); i++) {
        char c = value.charAt(i);
        if (c == 0 || c == '\r' || c == '\n') {
          return "value of " + name + " has NUL, CR or LF (§8.2.1)";
        }
      }
      if (name.startsWith(":")) {
        if (regular) {
          return "pseudo-header " + name + " after a regular field (§8.3)";
        }
        if (!REQUEST_PSEUDO.contains(name)) {
          return "pseudo-header " + name + " is not a request's (§8.3)";
        }
        if (!pseudo.add(name)) {
          return "pseudo-header " + name + " twice (§8.3)";
        }
        if (name.equals(":method")) {
          method = value;
        } else if (name.equals(":path")) {
          path = value;
        }
      } else {
        regular = true;
        if (CONNECTION_SPECIFIC.contains(name)) {
          return "connection-specific field " + name + " (§8.2.2)";
        }
        if (name.equals("te") && !value.equalsIgnoreCase("trailers")) {
          return "te other than trailers (§8.2.2)";
        }
      }
    }
    if (!pseudo.contains(":method")) {
      return "no :method (§8.3.1)";
    }
    if ("CONNECT".equals(method)) {
      // §8.5: :authority only, no :scheme or :path
      return pseudo.contains(":authority") && !pseudo.contains(":scheme") && !pseudo.contains(":path")
          ? null : "CONNECT without :authority, or with :scheme or :path (§8.5)";
    }
    if (!pseudo.contains(":scheme") || path == null) {
      return "no :scheme or :path (§8.3.1)";
    }
    // §8.3.1: absolute-path [ "?" query ], or "*" for OPTIONS (RFC 9110 §7.1, asterisk-form)
    return path.startsWith("/") || (path.equals("*") && "OPTIONS".equals(method)) ? null : ":path " + path;
  }

  /** What is wrong with a request handed to the proxy handler, or null if nothing. */
  static String unfit(HttpRequest request) {
    HttpHeaders headers = request.headers();
    for (Map.Entry<String, String> field : headers) {
      String name = field.getKey().toLowerCase(Locale.ROOT);
      String value = field.getValue();
      if (name.isEmpty() || name.startsWith(":")) {
        return "field name '" + field.getKey() + "'";
      }
      if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0 || value.indexOf(0) >= 0) {
        return "field " + name + " has CR, LF or NUL in its value";
      }
      if (Set.of("connection", "keep-alive", "proxy-connection", "upgrade").contains(name)) {
        return "connection-specific field " + name;
      }
      if (name.equals("te") && !value.equalsIgnoreCase("trailers")) {
        return "te: " + value;
      }
    }
    // Http2StreamCodec frames a body without content-length as chunked, and only then. The request is
    // a ClientRequest, whose framing is a fact of its head (the relay sets Transfer-Encoding again).
    if (request instanceof io.gatehouse.http.ClientRequest received) {
      io.gatehouse.http.HttpHead head = received.head();
      if (head.hasTransferEncoding() && (!head.onlyChunked() || head.contentLength() != io.gatehouse.http.HttpHead.NO_LENGTH)) {
        return "transfer-encoding with content-length " + head.contentLength();
      }
      if (head.connection() != 0 || head.hasUpgrade()) {
        return "connection-specific field in the head";
      }
      if (request.uri().chars().anyMatch(c -> c <= 0x20 || c >= 0x7f)) {
        return "request target " + request.uri() + " is no HTTP/1.1 request-target";
      }
    }
    List<String> te = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
    if (!te.isEmpty() && (!te.equals(List.of("chunked")) || headers.contains(HttpHeaderNames.CONTENT_LENGTH))) {
      return "transfer-encoding " + te + " with content-length " + headers.getAll(HttpHeaderNames.CONTENT_LENGTH);
    }
    if (headers.getAll(HttpHeaderNames.CONTENT_LENGTH).size() > 1) {
      return "content-length " + headers.getAll(HttpHeaderNames.CONTENT_LENGTH);
    }
    if (headers.getAll(HttpHeaderNames.HOST).size() > 1) {
      return "host " + headers.getAll(HttpHeaderNames.HOST);
    }
    String uri = request.uri();
    if (request.method().equals(HttpMethod.CONNECT)) {
      return uri.isEmpty() || uri.startsWith("/") ? "CONNECT to " + uri : null;
    }
    return uri.startsWith("/") || (uri.equals("*") && request.method().equals(HttpMethod.OPTIONS))
        ? null : "request target " + uri;
  }
}
