package io.gatehouse.http;

import io.netty.buffer.ByteBuf;

/**
 * Writes a parsed head forward by copying byte ranges of the received one: the start line as it
 * came, then every field except the hop-by-hop ones (RFC 9110 §7.6.1: the fixed list and every field
 * the {@code Connection} field names), then the fields the caller adds. Framing fields
 * ({@code Content-Length}, {@code Transfer-Encoding}) are copied: a head the parser accepted frames
 * its message one way only, and the body is passed on as it came. Stateless.
 */
public final class HeadWriter {
  private static final String[] HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade",
  };

  private HeadWriter() {}

  /**
   * Copies {@code head} (parsed at {@code src}'s reader index) into {@code dst} without its
   * hop-by-hop fields, then {@code extra} (complete field lines, each ending in CRLF, or empty),
   * then the empty line.
   */
  public static void write(HttpHead head, ByteBuf src, ByteBuf dst, String extra) {
    int base = src.readerIndex();
    int firstField = head.fieldCount() == 0 ? head.length() - 2 : head.nameStart(0);
    dst.writeBytes(src, base + head.skipped(), firstField - head.skipped());
    for (int i = 0; i < head.fieldCount(); i++) {
      if (hopByHop(head, src, i)) {
        continue;
      }
      int lineStart = head.nameStart(i);
      int lineEnd = i + 1 < head.fieldCount() ? head.nameStart(i + 1) : head.length() - 2;
      dst.writeBytes(src, base + lineStart, lineEnd - lineStart);
    }
    if (!extra.isEmpty()) {
      dst.writeCharSequence(extra, java.nio.charset.StandardCharsets.ISO_8859_1);
    }
    dst.writeShort(('\r' << 8) | '\n');
  }

  /**
   * Writes a response head (parsed at {@code src}'s reader index) for an HTTP/1.1 client, without
   * its empty last line: the status line with version {@code HTTP/1.1} (what this proxy speaks to
   * the client, RFC 9110 §6.2) and {@code SP reason} even when the upstream sent no reason (RFC 9112
   * §4), then every field except the hop-by-hop ones and {@code Transfer-Encoding}, which the caller
   * sets again with the framing it gives the body.
   */
  public static void writeResponse(HttpHead head, ByteBuf src, ByteBuf dst) {
    int base = src.readerIndex();
    dst.writeBytes(HTTP_1_1);
    dst.writeBytes(src, base + head.skipped() + 9, 3); // the status code's three digits
    dst.writeByte(' ');
    dst.writeBytes(src, base + head.reasonStart(), head.reasonEnd() - head.reasonStart());
    dst.writeShort(('\r' << 8) | '\n');
    for (int i = 0; i < head.fieldCount(); i++) {
      if (hopByHop(head, src, i)
          || (head.nameEnd(i) - head.nameStart(i) == 17 && head.nameIs(src, i, "transfer-encoding"))) {
        continue;
      }
      int lineStart = head.nameStart(i);
      int lineEnd = i + 1 < head.fieldCount() ? head.nameStart(i + 1) : head.length() - 2;
      dst.writeBytes(src, base + lineStart, lineEnd - lineStart);
    }
  }

  private static final byte[] HTTP_1_1 = {'H', 'T', 'T', 'P', '/', '1', '.', '1', ' '};

  /**
   * Whether field {@code field} is hop-by-hop: a fixed one, or named by {@code Connection}, except
   * {@code Content-Length} and {@code Host}, which {@code Connection} cannot take away: the message's
   * framing and target must reach the next hop whatever a sender lists ({@code Connection:
   * content-length} would otherwise leave a body without its length, a smuggling vector).
   */
  static boolean hopByHop(HttpHead head, ByteBuf src, int field) {
    int length = head.nameEnd(field) - head.nameStart(field);
    for (String name : HOP_BY_HOP) {
      if (name.length() == length && head.nameIs(src, field, name)) {
        return true;
      }
    }
    if ((head.connection() & HttpHead.CONNECTION_NAMES_FIELDS) == 0 || HopByHop.endToEndAlways(head, src, field)) {
      return false;
    }
    for (int i = 0; i < head.fieldCount(); i++) {
      if (head.nameIs(src, i, "connection") && listsName(head, src, i, field)) {
        return true;
      }
    }
    return false;
  }

  /** Whether the {@code Connection} field {@code connection} lists field {@code field}'s name. */
  private static boolean listsName(HttpHead head, ByteBuf src, int connection, int field) {
    int base = src.readerIndex();
    int from = head.valueStart(connection);
    int to = head.valueEnd(connection);
    int nameFrom = base + head.nameStart(field);
    int nameLength = head.nameEnd(field) - head.nameStart(field);
    int start = from;
    while (start <= to) {
      int end = start;
      while (end < to && src.getByte(base + end) != ',') {
        end++;
      }
      int a = start;
      int b = end;
      while (a < b && isOws(src.getByte(base + a))) {
        a++;
      }
      while (b > a && isOws(src.getByte(base + b - 1))) {
        b--;
      }
      if (b - a == nameLength && equalIgnoringCase(src, base + a, nameFrom, nameLength)) {
        return true;
      }
      start = end + 1;
    }
    return false;
  }

  private static boolean isOws(byte b) {
    return b == ' ' || b == '\t';
  }

  private static boolean equalIgnoringCase(ByteBuf buf, int a, int b, int length) {
    for (int i = 0; i < length; i++) {
      int x = buf.getByte(a + i);
      int y = buf.getByte(b + i);
      if (x != y && (x | 0x20) != (y | 0x20)) {
        return false;
      }
      if (x != y && !Character.isLetter((char) (x | 0x20))) {
        return false;
      }
    }
    return true;
  }
}
