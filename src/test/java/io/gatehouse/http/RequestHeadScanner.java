package io.gatehouse.http;

import io.netty.buffer.ByteBuf;

/**
 * Scans the raw bytes of a request head (request line and header fields) for what RFC 9112 forbids
 * and lenient parsers repair: obs-fold (§5.2), NUL and other control characters (§5.5). Line-ending
 * and field-name errors are left to Netty's decoder, which rejects them.
 *
 * <p>Stateful so that a head trickling in byte by byte (slow-loris) is scanned once, not once per
 * packet. One instance per connection; event-loop confined.
 */
final class RequestHeadScanner {
  static final int OK = 0;
  static final int INCOMPLETE = 1;
  static final int TOO_LARGE = -1;
  static final int OBS_FOLD = -2;
  static final int CONTROL_CHAR = -3;
  static final int NON_ASCII_REQUEST_LINE = -4;
  static final int LEADING_WHITESPACE = -5;
  static final int BARE_CR = -6;
  static final int VERSION_CASE = -7;

  private final int maxHeadBytes;
  /** Bytes after the reader index already scanned (the decoder consumes nothing until OK). */
  private int scanned;
  private boolean lineStart = true;
  private boolean firstLine = true;
  private boolean seenContent;

  RequestHeadScanner(int maxHeadBytes) {
    this.maxHeadBytes = maxHeadBytes;
  }

  /** Prepares for the next head. */
  void reset() {
    scanned = 0;
    lineStart = true;
    firstLine = true;
    seenContent = false;
  }

  /** Returns OK when a complete clean head is buffered, INCOMPLETE, or a negative problem code. */
  int scan(ByteBuf in) {
    int base = in.readerIndex();
    int end = in.writerIndex();
    for (int i = base + scanned; i < end; i++, scanned++) {
      int b = in.getByte(i) & 0xff; // unsigned: obs-text (0x80-0xff) is not a control byte
      if (!seenContent) {
        // Empty lines before a request line are tolerated (RFC 9112 §2.2).
        if (b == '\r' || b == '\n') {
          continue;
        }
        if (b == ' ' || b == '\t') {
          // RFC 9112 §3: the request line starts with the method. Netty would skip the whitespace
          // and read the rest as a request; nginx and HAProxy answer 400, so does Gatehouse (found by
          // HeadParserFuzzTest: the own parser refused it, Netty's decoder did not).
          return LEADING_WHITESPACE;
        }
        seenContent = true;
      }
      if (scanned >= maxHeadBytes) {
        return TOO_LARGE;
      }
      if (lineStart && !firstLine) {
        if (b == '\n') {
          return OK; // the empty line ending the head; Netty checks its exact form
        }
        if (b == '\r') {
          // Only with the byte after it: handing Netty a head that ends in a lone CR lets it
          // consume the header lines, after which this scan restarted mid-head and never
          // finished (a head whose final CRLF was split across packets hung).
          return i + 1 < end ? OK : INCOMPLETE;
        }
        if (b == ' ' || b == '\t') {
          return OBS_FOLD;
        }
      }
      if (b == '\n') {
        if (firstLine && versionInWrongCase(in, i)) {
          return VERSION_CASE;
        }
        lineStart = true;
        firstLine = false;
        continue;
      }
      lineStart = false;
      if (b == '\r') {
        // RFC 9112 §2.2: a bare CR makes the element invalid. Netty's decoder splits the request line
        // on it as if it were a space ("GET\r\t/x HTTP/1.1" became "GET /x"); nginx and HAProxy
        // answer 400 (found by HeadParserFuzzTest). Judged with the byte after it, so wait for it.
        if (i + 1 >= end) {
          return INCOMPLETE;
        }
        if (in.getByte(i + 1) != '\n') {
          return BARE_CR;
        }
        continue;
      }
      if ((b < 0x20 && b != '\t' && b != '\r') || b == 0x7f) {
        return CONTROL_CHAR;
      }
      if (b >= 0x80 && firstLine) {
        // Field values may carry obs-text (RFC 9110 §5.5: browsers send raw UTF-8 in cookies and
        // referers); the request line is ASCII only (RFC 9112 §3, RFC 3986 §2).
        return NON_ASCII_REQUEST_LINE;
      }
    }
    return INCOMPLETE;
  }

  private static final byte[] HTTP_NAME = {'H', 'T', 'T', 'P', '/'};

  /**
   * RFC 9112 §2.3: HTTP-name is "HTTP", case-sensitive. Netty's decoder upper-cases the version it
   * reads, so "HtTP/1.1" passed as HTTP/1.1; nginx answers 400 (found by HeadParserFuzzTest). The
   * request line ends at {@code lf}: its last 8 bytes before the CR are the version when well formed;
   * any other shape is left to the decoder.
   */
  private static boolean versionInWrongCase(ByteBuf in, int lf) {
    int v = lf - 9;
    if (v - 1 < in.readerIndex() || in.getByte(lf - 1) != '\r' || in.getByte(v - 1) != ' ') {
      return false;
    }
    boolean exact = true;
    for (int k = 0; k < HTTP_NAME.length; k++) {
      byte c = in.getByte(v + k);
      if (c != HTTP_NAME[k]) {
        if ((c | 0x20) != (HTTP_NAME[k] | 0x20)) {
          return false; // not a version in another case: the decoder judges it
        }
        exact = false;
      }
    }
    return !exact;
  }

  static String describe(int verdict) {
    switch (verdict) {
      case OBS_FOLD:
        return "obsolete line folding in header field";
      case CONTROL_CHAR:
        return "control character in request head";
      case NON_ASCII_REQUEST_LINE:
        return "non-ASCII byte in request line";
      case LEADING_WHITESPACE:
        return "whitespace before the request line";
      case BARE_CR:
        return "bare CR in request head";
      case VERSION_CASE:
        return "HTTP-name not in upper case";
      default:
        return "malformed request head";
    }
  }
}
