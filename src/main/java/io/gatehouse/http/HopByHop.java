package io.gatehouse.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Removes hop-by-hop fields before a message is forwarded (RFC 9110 §7.6.1): the fixed list plus
 * every field named in {@code Connection}. Message framing is set again by the relay afterwards.
 *
 * <p>{@link #scan} reads every framing fact the relay needs (keep-alive, chunked, length,
 * upgrade, which hop-by-hop fields are present) in one pass over the fields, so a message's head
 * is walked once instead of once per question.
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
  private static final int FIXED_MASK = (1 << FIXED.length) - 1;
  /** Presence of each fixed field: bit i for {@code FIXED[i]} (also {@link HttpHead#hopByHopFields()}). */
  static final int CONNECTION_PRESENT = 1;
  static final int KEEP_ALIVE_PRESENT = 1 << 1;
  static final int PROXY_CONNECTION_PRESENT = 1 << 2;
  static final int TE_PRESENT = 1 << 3;
  static final int TRAILER_PRESENT = 1 << 4;
  static final int TRANSFER_ENCODING_PRESENT = 1 << 5;
  static final int UPGRADE_PRESENT = 1 << 6;

  /** {@code Connection} lists {@code close}. */
  public static final int CONNECTION_CLOSE = 1 << 8;
  /** {@code Connection} lists {@code keep-alive}. */
  public static final int CONNECTION_KEEP_ALIVE = 1 << 9;
  /** {@code Connection} lists {@code upgrade}. */
  public static final int CONNECTION_UPGRADE = 1 << 10;
  /** {@code Connection} names other fields, which are hop-by-hop too. */
  private static final int CONNECTION_NAMES_FIELDS = 1 << 11;
  /** {@code Transfer-Encoding} lists {@code chunked}. */
  public static final int CHUNKED = 1 << 12;
  /** A {@code Content-Length} field is present. */
  public static final int CONTENT_LENGTH = 1 << 13;

  /**
   * Fields a {@code Connection} list never removes: the framing and the target of the message
   * (a body without its length would be read by the next hop as another message).
   */
  private static final java.util.Set<String> ALWAYS_END_TO_END = java.util.Set.of("content-length", "host");

  private HopByHop() {}

  /**
   * Whether {@code name} (any case) is one of the fixed hop-by-hop fields: {@code Connection},
   * {@code Keep-Alive}, {@code Proxy-Connection}, {@code TE}, {@code Trailer},
   * {@code Transfer-Encoding}, {@code Upgrade}. They are also HTTP/2's connection-specific fields
   * (RFC 9113 §8.2.2; {@code te} aside, which HTTP/2 allows as {@code trailers} only).
   */
  public static boolean isFixed(CharSequence name) {
    for (AsciiString fixed : FIXED) {
      if (fixed.length() == name.length() && fixed.contentEqualsIgnoreCase(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The {@code *_PRESENT} bit of the field named {@code a[from, to)} (any case) when it is one of the
   * fixed hop-by-hop fields, else 0, told apart by length first: for the head parser's pass and the
   * HTTP/2 head builders alike, through {@link FieldPresence#of}.
   */
  static int presence(byte[] a, int from, int to) {
    int length = to - from;
    switch (length) {
      case 2:
        return HeadParser.equalsLowerCase(a, from, length, "te") ? TE_PRESENT : 0;
      case 7:
        if (HeadParser.equalsLowerCase(a, from, length, "upgrade")) {
          return UPGRADE_PRESENT;
        }
        return HeadParser.equalsLowerCase(a, from, length, "trailer") ? TRAILER_PRESENT : 0;
      case 10:
        if (HeadParser.equalsLowerCase(a, from, length, "connection")) {
          return CONNECTION_PRESENT;
        }
        return HeadParser.equalsLowerCase(a, from, length, "keep-alive") ? KEEP_ALIVE_PRESENT : 0;
      case 16:
        return HeadParser.equalsLowerCase(a, from, length, "proxy-connection") ? PROXY_CONNECTION_PRESENT : 0;
      case 17:
        return HeadParser.equalsLowerCase(a, from, length, "transfer-encoding") ? TRANSFER_ENCODING_PRESENT : 0;
      default:
        return 0;
    }
  }

  /** Whether field {@code field} of {@code head} is one {@code Connection} cannot make hop-by-hop. */
  static boolean endToEndAlways(HttpHead head, io.netty.buffer.ByteBuf buf, int field) {
    int length = head.nameEnd(field) - head.nameStart(field);
    return (length == 14 && head.nameIs(buf, field, "content-length")) || (length == 4 && head.nameIs(buf, field, "host"));
  }

  /** The framing facts of {@code headers} as a set of the flags above. */
  public static int scan(HttpHeaders headers) {
    int flags = 0;
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> field = it.next();
      CharSequence name = field.getKey();
      if (HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name)) {
        flags |= CONTENT_LENGTH;
        continue;
      }
      for (int i = 0; i < FIXED.length; i++) {
        if (FIXED[i].contentEqualsIgnoreCase(name)) {
          flags |= 1 << i;
          if (i == 0) {
            flags |= connectionTokens(field.getValue());
          } else if (FIXED[i] == HttpHeaderNames.TRANSFER_ENCODING && hasToken(field.getValue(), HttpHeaderValues.CHUNKED)) {
            flags |= CHUNKED;
          }
          break;
        }
      }
    }
    return flags;
  }

  /**
   * The same flags for a parsed head, from the facts its parse noted in its one pass (no second walk
   * over the fields): exact when the head has no {@code Transfer-Encoding} or only {@code chunked}
   * ({@link HttpHead#onlyChunked()}); a coding list needs {@link #scan(HttpHeaders)}.
   */
  static int scan(HttpHead head) {
    int flags = head.hopByHopFields();
    if (head.contentLength() != HttpHead.NO_LENGTH) {
      flags |= CONTENT_LENGTH;
    }
    int connection = head.connection();
    if ((connection & HttpHead.CONNECTION_CLOSE) != 0) {
      flags |= CONNECTION_CLOSE;
    }
    if ((connection & HttpHead.CONNECTION_KEEP_ALIVE) != 0) {
      flags |= CONNECTION_KEEP_ALIVE;
    }
    if ((connection & HttpHead.CONNECTION_UPGRADE) != 0) {
      flags |= CONNECTION_UPGRADE;
    }
    if ((connection & HttpHead.CONNECTION_NAMES_FIELDS) != 0) {
      flags |= CONNECTION_NAMES_FIELDS;
    }
    if (head.onlyChunked()) {
      flags |= CHUNKED;
    }
    return flags;
  }

  /** Whether a message with these flags keeps its connection (RFC 9112 §9.3). */
  public static boolean keepAlive(int flags, boolean http10) {
    return http10 ? (flags & CONNECTION_KEEP_ALIVE) != 0 : (flags & CONNECTION_CLOSE) == 0;
  }

  /** Whether {@code Upgrade} is present and offered through {@code Connection: upgrade}. */
  public static boolean upgradeOffered(int flags) {
    return (flags & UPGRADE_PRESENT) != 0 && (flags & CONNECTION_UPGRADE) != 0;
  }

  public static void strip(HttpHeaders headers) {
    strip(headers, scan(headers));
  }

  /** Removes the hop-by-hop fields {@code flags} (from {@link #scan} of the same headers) found. */
  public static void strip(HttpHeaders headers, int flags) {
    if ((flags & FIXED_MASK) == 0) {
      return;
    }
    if ((flags & CONNECTION_NAMES_FIELDS) != 0) {
      for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
        for (String token : value.split(",")) {
          String name = token.trim();
          if (!name.isEmpty() && !ALWAYS_END_TO_END.contains(name.toLowerCase(java.util.Locale.ROOT))) {
            headers.remove(name);
          }
        }
      }
    }
    for (int i = 0; i < FIXED.length; i++) {
      if ((flags & (1 << i)) != 0) {
        headers.remove(FIXED[i]);
      }
    }
  }

  private static int connectionTokens(CharSequence value) {
    int flags = 0;
    int start = 0;
    int length = value.length();
    while (start <= length) {
      int end = start;
      while (end < length && value.charAt(end) != ',') {
        end++;
      }
      int from = start;
      int to = end;
      while (from < to && value.charAt(from) <= ' ') {
        from++;
      }
      while (to > from && value.charAt(to - 1) <= ' ') {
        to--;
      }
      if (to > from) {
        if (tokenIs(value, from, to, HttpHeaderValues.CLOSE)) {
          flags |= CONNECTION_CLOSE;
        } else if (tokenIs(value, from, to, HttpHeaderValues.KEEP_ALIVE)) {
          flags |= CONNECTION_KEEP_ALIVE;
        } else if (tokenIs(value, from, to, HttpHeaderValues.UPGRADE)) {
          flags |= CONNECTION_UPGRADE; // names Upgrade, removed as a fixed field anyway
        } else {
          flags |= CONNECTION_NAMES_FIELDS;
        }
      }
      start = end + 1;
    }
    return flags;
  }

  /** Whether {@code value[from, to)} is {@code token}, ignoring ASCII case, without a copy. */
  private static boolean tokenIs(CharSequence value, int from, int to, AsciiString token) {
    return to - from == token.length() && AsciiString.regionMatches(value, true, from, token, 0, token.length());
  }

  private static boolean hasToken(CharSequence value, AsciiString wanted) {
    for (String token : value.toString().split(",")) {
      if (wanted.contentEqualsIgnoreCase(token.trim())) {
        return true;
      }
    }
    return false;
  }
}
