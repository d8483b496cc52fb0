package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * One HTTP/1 message head as an index into the buffer it was received in: where the start line's
 * parts and each field's name and value lie, and the framing facts read in the same pass
 * ({@link HeadParser}). Offsets are relative to the buffer's reader index at the time of parsing,
 * so the index holds for a slice of the head taken at that index. Immutable.
 */
public final class HttpHead {
  /** No {@code Content-Length} field. */
  public static final long NO_LENGTH = -1;

  /** {@code Connection} lists {@code close}. */
  public static final int CONNECTION_CLOSE = 1;
  /** {@code Connection} lists {@code keep-alive}. */
  public static final int CONNECTION_KEEP_ALIVE = 1 << 1;
  /** {@code Connection} lists {@code upgrade}. */
  public static final int CONNECTION_UPGRADE = 1 << 2;
  /** {@code Connection} names other fields, which are hop-by-hop too (RFC 9110 §7.6.1). */
  public static final int CONNECTION_NAMES_FIELDS = 1 << 3;

  private final boolean request;
  private final int skipped;
  private final int length;
  /** Start line: request {method start, method end, target start, target end}; response {reason start, reason end}. */
  private final int[] startLine;
  private final int major;
  private final int minor;
  private final int status;
  /** Four offsets per field: name start, name end, value start, value end (trimmed of OWS). */
  private final int[] fields;
  private final int fieldCount;
  private final long contentLength;
  private final boolean chunked;
  private final boolean transferEncoding;
  private final boolean onlyChunked;
  private final boolean otherCodings;
  private final int connection;
  private final int hostCount;
  /** Which of the fields {@link FieldPresence} notes are present, as its bits. */
  private final int fieldsPresent;

  HttpHead(boolean request, int skipped, int length, int[] startLine, int major, int minor, int status,
      int[] fields, int fieldCount, long contentLength, boolean transferEncoding, boolean chunked,
      boolean onlyChunked, boolean otherCodings, int connection, int hostCount, int fieldsPresent) {
    this.request = request;
    this.skipped = skipped;
    this.length = length;
    this.startLine = startLine;
    this.major = major;
    this.minor = minor;
    this.status = status;
    this.fields = fields;
    this.fieldCount = fieldCount;
    this.contentLength = contentLength;
    this.transferEncoding = transferEncoding;
    this.chunked = chunked;
    this.onlyChunked = onlyChunked;
    this.otherCodings = otherCodings;
    this.connection = connection;
    this.hostCount = hostCount;
    this.fieldsPresent = fieldsPresent;
  }

  public boolean isRequest() {
    return request;
  }

  /** Empty lines before the start line (RFC 9112 §2.2), counted in {@link #length()}. */
  public int skipped() {
    return skipped;
  }

  /** Bytes of the head from the parse's reader index, through the empty line that ends it. */
  public int length() {
    return length;
  }

  public int majorVersion() {
    return major;
  }

  public int minorVersion() {
    return minor;
  }

  /** The response's status code; 0 for a request. */
  public int status() {
    return status;
  }

  public int fieldCount() {
    return fieldCount;
  }

  public int nameStart(int field) {
    return fields[4 * field];
  }

  public int nameEnd(int field) {
    return fields[4 * field + 1];
  }

  public int valueStart(int field) {
    return fields[4 * field + 2];
  }

  public int valueEnd(int field) {
    return fields[4 * field + 3];
  }

  /** The value of {@code Content-Length}, or {@link #NO_LENGTH}. */
  public long contentLength() {
    return contentLength;
  }

  /** A {@code Transfer-Encoding} field is present. */
  public boolean hasTransferEncoding() {
    return transferEncoding;
  }

  /** The last transfer coding is {@code chunked} (RFC 9112 §6.3 item 4). */
  public boolean chunked() {
    return chunked;
  }

  /** {@code Transfer-Encoding} is one field whose value is exactly {@code chunked}: all the relay can frame. */
  public boolean onlyChunked() {
    return onlyChunked;
  }

  /**
   * {@code Transfer-Encoding} lists a coding other than {@code chunked} (RFC 9110 §10.1.4, read by
   * its grammar with the rest of the list: {@code gzip}, or {@code chunked;x=1}, which is not the
   * chunked the framing knows). Empty list elements are none.
   */
  public boolean hasOtherCodings() {
    return otherCodings;
  }

  /** The {@code CONNECTION_*} flags of the {@code Connection} tokens. */
  public int connection() {
    return connection;
  }

  public int hostCount() {
    return hostCount;
  }

  /** An {@code Upgrade} field is present. */
  public boolean hasUpgrade() {
    return (fieldsPresent & HopByHop.UPGRADE_PRESENT) != 0;
  }

  /**
   * Which of the fixed hop-by-hop fields ({@code Connection}, {@code Keep-Alive},
   * {@code Proxy-Connection}, {@code TE}, {@code Trailer}, {@code Transfer-Encoding}, {@code Upgrade})
   * are present: {@link HopByHop}'s {@code *_PRESENT} bits, noted by the parse's one pass.
   */
  int hopByHopFields() {
    return fieldsPresent & FieldPresence.HOP_BY_HOP;
  }

  /** {@link FieldPresence}'s bits of the fields present: the hop-by-hop ones, {@code Date}, {@code Via}. */
  int fieldsPresent() {
    return fieldsPresent;
  }

  /** A {@code Date} field is present. */
  public boolean hasDate() {
    return (fieldsPresent & FieldPresence.DATE) != 0;
  }

  /** A {@code Via} field is present. */
  public boolean hasVia() {
    return (fieldsPresent & FieldPresence.VIA) != 0;
  }

  /** Whether the connection persists after this message (RFC 9112 §9.3). */
  public boolean keepAlive() {
    return minor == 0 ? (connection & CONNECTION_KEEP_ALIVE) != 0 : (connection & CONNECTION_CLOSE) == 0;
  }

  /** Where a request's method starts and ends, and its target. */
  public int methodStart() {
    return startLine[0];
  }

  public int methodEnd() {
    return startLine[1];
  }

  public int targetStart() {
    return startLine[2];
  }

  public int targetEnd() {
    return startLine[3];
  }

  /** The method of a request, read from {@code buf} (whose reader index is where the parse began). */
  public String method(ByteBuf buf) {
    return ascii(buf, startLine[0], startLine[1]);
  }

  /** The request target, read from {@code buf}. */
  public String target(ByteBuf buf) {
    return ascii(buf, startLine[2], startLine[3]);
  }

  /** Where a response's reason phrase starts (empty when it has none). */
  public int reasonStart() {
    return startLine[0];
  }

  public int reasonEnd() {
    return startLine[1];
  }

  /** The reason phrase of a response, read from {@code buf} (empty when there is none). */
  public String reason(ByteBuf buf) {
    return ascii(buf, startLine[0], startLine[1]);
  }

  public String name(ByteBuf buf, int field) {
    return ascii(buf, nameStart(field), nameEnd(field));
  }

  public String value(ByteBuf buf, int field) {
    return ascii(buf, valueStart(field), valueEnd(field));
  }

  /** Whether field {@code field}'s name is {@code name} ({@code name} in lower case), without a copy. */
  public boolean nameIs(ByteBuf buf, int field, String name) {
    int from = nameStart(field);
    int to = nameEnd(field);
    return HeadParser.equalsLowerCase(buf, buf.readerIndex() + from, to - from, name);
  }

  private static String ascii(ByteBuf buf, int from, int to) {
    if (buf.hasArray()) { // a heap copy: one array copy, no decoder
      return new String(buf.array(), buf.arrayOffset() + buf.readerIndex() + from, to - from,
          StandardCharsets.ISO_8859_1);
    }
    return buf.toString(buf.readerIndex() + from, to - from, StandardCharsets.ISO_8859_1);
  }

  @Override
  public String toString() {
    return (request ? "request" : "response " + status) + " HTTP/" + major + "." + minor + ", " + fieldCount
        + " fields, " + length + " bytes";
  }
}
