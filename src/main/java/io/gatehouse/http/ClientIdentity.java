package io.gatehouse.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;

/**
 * Adds the headers that tell an upstream who the client was: {@code X-Forwarded-*} (de facto),
 * RFC 7239 {@code Forwarded} and RFC 9110 §7.6.3 {@code Via}. Existing values are appended to, so a
 * chain of proxies stays visible.
 */
public final class ClientIdentity {
  private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
  private static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
  private static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
  private static final AsciiString FORWARDED = AsciiString.cached("forwarded");
  /** What this proxy received over HTTP/1.1 (RFC 9110 §7.6.3: the received protocol, then a name). */
  public static final String VIA_VALUE = "1.1 gatehouse";
  /** What it received over HTTP/1.0. */
  public static final String VIA_VALUE_HTTP10 = "1.0 gatehouse";
  /** A request received over HTTP/2 ({@code 2.0}: RFC 9110 §2.5, minor version 0 implied). */
  public static final String VIA_VALUE_HTTP2 = "2.0 gatehouse";

  private ClientIdentity() {}

  public static void addXForwarded(MessageFields headers, String ip, String proto, String host) {
    addXForwardedFor(headers, ip);
    headers.set(X_FORWARDED_PROTO, proto);
    if (host != null) {
      headers.set(X_FORWARDED_HOST, host);
    }
  }

  /** Appends {@code ip} to {@code X-Forwarded-For}, every line the request came with kept in order. */
  public static void addXForwardedFor(MessageFields headers, String ip) {
    String prior = joined(headers, X_FORWARDED_FOR);
    headers.set(X_FORWARDED_FOR, prior == null ? ip : prior + ", " + ip);
  }

  /** RFC 7239 §4: {@code for=}, {@code proto=}, {@code host=}; IPv6 quoted and bracketed (§6). */
  public static void addForwarded(MessageFields headers, String ip, String proto, String host) {
    StringBuilder element = new StringBuilder(64).append("for=");
    if (ip.indexOf(':') >= 0) {
      element.append("\"[").append(ip).append("]\"");
    } else {
      element.append(ip);
    }
    element.append(";proto=").append(proto);
    if (host != null && !host.isEmpty()) {
      element.append(";host=").append(quoteIfNeeded(host));
    }
    String prior = joined(headers, FORWARDED);
    headers.set(FORWARDED, prior == null ? element : prior + ", " + element);
  }

  /**
   * The {@code Via} value for a message received as {@code version} (HTTP/1.0 or 1.1), or on an
   * HTTP/2 stream ({@code http2}: its head says HTTP/1.1, how it goes on). A constant.
   */
  public static String via(HttpVersion version, boolean http2) {
    return http2 ? VIA_VALUE_HTTP2 : version.minorVersion() == 0 ? VIA_VALUE_HTTP10 : VIA_VALUE;
  }

  /** Appends {@code value} ({@link #via}) to {@code Via}. */
  public static void addVia(HttpHeaders headers, String value) {
    addVia(MessageFields.of(headers), value);
  }

  /** Appends {@code value} ({@link #via}) to {@code Via}. */
  public static void addVia(MessageFields headers, String value) {
    String prior = joined(headers, HttpHeaderNames.VIA);
    headers.set(HttpHeaderNames.VIA, prior == null ? value : prior + ", " + value);
  }

  /**
   * Every field line named {@code name} as one list, in order (RFC 9110 §5.3): a chain sent over
   * several lines ({@code Via: 1.0 a} then {@code Via: 1.1 b}) keeps all of its members when this
   * proxy appends its own and sets the field once. Null when there is none.
   */
  private static String joined(MessageFields headers, AsciiString name) {
    String first = headers.get(name);
    if (first == null) {
      return null;
    }
    java.util.List<String> all = headers.getAll(name);
    return all.size() == 1 ? first : String.join(", ", all);
  }

  private static String quoteIfNeeded(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (!(Character.isLetterOrDigit(c) || c == '.' || c == '-' || c == '_')) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
      }
    }
    return value;
  }
}
