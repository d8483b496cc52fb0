package io.gatehouse.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
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
  public static final String VIA_VALUE = "1.1 gatehouse";

  private ClientIdentity() {}

  public static void addXForwarded(MessageFields headers, String ip, String proto, String host) {
    String prior = headers.get(X_FORWARDED_FOR);
    headers.set(X_FORWARDED_FOR, prior == null ? ip : prior + ", " + ip);
    headers.set(X_FORWARDED_PROTO, proto);
    if (host != null) {
      headers.set(X_FORWARDED_HOST, host);
    }
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
    String prior = headers.get(FORWARDED);
    headers.set(FORWARDED, prior == null ? element : prior + ", " + element);
  }

  public static void addVia(HttpHeaders headers) {
    addVia(MessageFields.of(headers));
  }

  public static void addVia(MessageFields headers) {
    String prior = headers.get(HttpHeaderNames.VIA);
    headers.set(HttpHeaderNames.VIA, prior == null ? VIA_VALUE : prior + ", " + VIA_VALUE);
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
