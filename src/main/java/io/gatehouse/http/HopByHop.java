package io.gatehouse.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.List;

/**
 * Removes hop-by-hop fields before a message is forwarded (RFC 9110 §7.6.1): the fixed list plus
 * every field named in {@code Connection}. Message framing is set again by the relay afterwards.
 */
public final class HopByHop {
  private static final AsciiString[] FIXED = {
    HttpHeaderNames.CONNECTION,
    HttpHeaderNames.KEEP_ALIVE,
    HttpHeaderNames.PROXY_CONNECTION,
    HttpHeaderNames.TE,
    HttpHeaderNames.TRAILER,
    HttpHeaderNames.TRANSFER_ENCODING,
    HttpHeaderNames.UPGRADE,
  };

  private HopByHop() {}

  public static void strip(HttpHeaders headers) {
    List<String> connection = headers.getAll(HttpHeaderNames.CONNECTION);
    for (String value : connection) {
      int start = 0;
      while (start <= value.length()) {
        int comma = value.indexOf(',', start);
        int end = comma < 0 ? value.length() : comma;
        String token = value.substring(start, end).trim();
        if (!token.isEmpty()) {
          headers.remove(token);
        }
        start = end + 1;
      }
    }
    for (AsciiString name : FIXED) {
      headers.remove(name);
    }
  }

  /** True when {@code Connection} lists {@code token} (case-insensitive). */
  public static boolean connectionHas(HttpHeaders headers, String token) {
    return headers.containsValue(HttpHeaderNames.CONNECTION, token, true);
  }
}
