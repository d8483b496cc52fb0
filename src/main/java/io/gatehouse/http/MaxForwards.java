package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * {@code Max-Forwards} (RFC 9110 §7.6.2): how many more intermediaries a TRACE or OPTIONS request
 * may pass. Every intermediary that forwards such a request must decrement the value; one that
 * receives 0 must not forward the request and answers it itself, as its final recipient. Other
 * methods ignore the field (and it is passed on unchanged).
 */
public final class MaxForwards {
  /** Fields a TRACE echo leaves out: credentials and cookies (RFC 9110 §9.3.8, "sensitive data"). */
  private static final Set<AsciiString> NOT_ECHOED = Set.of(
      HttpHeaderNames.AUTHORIZATION, HttpHeaderNames.PROXY_AUTHORIZATION, HttpHeaderNames.COOKIE);
  private static final AsciiString MESSAGE_HTTP = AsciiString.cached("message/http");

  private MaxForwards() {}

  /**
   * The hops {@code request} may still take: its {@code Max-Forwards} value when it is a TRACE or
   * OPTIONS with a readable one ({@code 1*DIGIT}), otherwise -1 (no limit: the field, if any, is
   * left as it is, as for an unreadable value, which no recipient can honour).
   */
  public static long remaining(HttpRequest request) {
    HttpMethod method = request.method();
    if (!HttpMethod.TRACE.equals(method) && !HttpMethod.OPTIONS.equals(method)) {
      return -1;
    }
    String value = MessageFields.of(request).get(HttpHeaderNames.MAX_FORWARDS);
    if (value == null || value.isEmpty()) {
      return -1;
    }
    long hops = 0;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      hops = hops > Long.MAX_VALUE / 10 ? Long.MAX_VALUE : hops * 10 + (c - '0'); // saturates
    }
    return hops;
  }

  /** Writes the field a forwarded request carries: one hop fewer than it arrived with. */
  public static void decrement(HttpRequest request, long remaining) {
    MessageFields.of(request).set(HttpHeaderNames.MAX_FORWARDS, Long.toString(remaining - 1));
  }

  /**
   * Turns {@code response} (a local 200) into the final recipient's answer to {@code request}: for
   * TRACE, the request as received as {@code message/http} content (RFC 9110 §9.3.8), without its
   * credentials and cookies; for OPTIONS, no content (the proxy describes no resource of its own).
   */
  public static void answer(HttpRequest request, FullHttpResponse response) {
    ByteBuf content = response.content().clear();
    HttpHeaders out = response.headers();
    if (HttpMethod.TRACE.equals(request.method())) {
      content.writeCharSequence(echo(request), StandardCharsets.ISO_8859_1);
      out.set(HttpHeaderNames.CONTENT_TYPE, MESSAGE_HTTP);
      // The echo carries what the client sent: never let a browser read it as a page of this origin.
      out.set("x-content-type-options", "nosniff");
    } else {
      out.remove(HttpHeaderNames.CONTENT_TYPE);
    }
    out.setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
  }

  /** The request line and fields as received (hop-by-hop fields were never kept), without the sensitive ones. */
  private static String echo(HttpRequest request) {
    StringBuilder head = new StringBuilder(256)
        .append(request.method().name()).append(' ').append(request.uri()).append(' ')
        .append(request.protocolVersion().text()).append("\r\n");
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = request.headers().iteratorCharSequence(); it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> field = it.next();
      if (!NOT_ECHOED.contains(AsciiString.of(field.getKey()).toLowerCase())) {
        head.append(field.getKey()).append(": ").append(field.getValue()).append("\r\n");
      }
    }
    return head.append("\r\n").toString();
  }
}
