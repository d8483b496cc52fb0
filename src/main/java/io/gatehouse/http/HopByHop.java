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
    int present = presentMask(headers);
    if (present == 0) {
      return; // the common case: one pass over the fields instead of a removal per name
    }
    List<String> connection =
        (present & 1) != 0 ? headers.getAll(HttpHeaderNames.CONNECTION) : List.of();
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
    for (int i = 0; i < FIXED.length; i++) {
      if ((present & (1 << i)) != 0) {
        headers.remove(FIXED[i]);
      }
    }
  }

  /** Bit i set when {@code FIXED[i]} is present (bit 0: Connection). */
  private static int presentMask(HttpHeaders headers) {
    int mask = 0;
    for (java.util.Iterator<java.util.Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        it.hasNext(); ) {
      CharSequence name = it.next().getKey();
      for (int i = 0; i < FIXED.length; i++) {
        if (FIXED[i].contentEqualsIgnoreCase(name)) {
          mask |= 1 << i;
          break;
        }
      }
    }
    return mask;
  }

  /** True when {@code Connection} lists {@code token} (case-insensitive). */
  public static boolean connectionHas(HttpHeaders headers, String token) {
    return headers.containsValue(HttpHeaderNames.CONNECTION, token, true);
  }
}
