package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.FastThreadLocal;

/**
 * Gatehouse's own strict HTTP/1 head parser (RFC 9112): finds a complete head in the received bytes
 * and indexes it in one pass ({@link HttpHead}), reading the framing facts on the way, so that a
 * head can be written forward by copying ranges instead of being decoded into objects and encoded
 * again.
 *
 * <p>What it refuses, each a smuggling or repair hazard: bare CR and bare LF as line ends (§2.2);
 * obs-fold (§5.2); whitespace between a field name and its colon (§5.1); an empty or non-token field
 * name (RFC 9110 §5.1); control bytes other than HTAB in a value (RFC 9110 §5.5); a start line other
 * than {@code method SP target SP HTTP/d.d} (§3) or {@code HTTP/d.d SP 3DIGIT [SP reason]} (§4);
 * non-ASCII in a request line; {@code Content-Length} that is not one run of digits, appears twice,
 * or overflows (RFC 9110 §8.6; duplicates are refused even when identical, as Netty's decoder does
 * today); {@code Content-Length} with {@code Transfer-Encoding} (§6.3 item 3: a request is refused,
 * and a proxy must not forward a response framed both ways); {@code Transfer-Encoding} in an
 * HTTP/1.0 message (§6.1: its framing is faulty).
 *
 * <p>Policy above syntax (Host rules, which transfer codings are relayed, versions) stays with the
 * callers: the head carries the facts. Incremental: the search for the head's end resumes where the
 * previous call stopped, so a head trickling in is scanned once. One instance per connection and
 * direction; event-loop confined, plain fields.
 */
public final class HeadParser {
  static final boolean[] TCHAR = new boolean[256];
  /** Bytes allowed in a field value: HTAB, SP, VCHAR, obs-text (RFC 9110 §5.5). */
  static final boolean[] FIELD_VCHAR = new boolean[256];

  static {
    for (int c = '0'; c <= '9'; c++) {
      TCHAR[c] = true;
    }
    for (int c = 'a'; c <= 'z'; c++) {
      TCHAR[c] = true;
      TCHAR[c - 32] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TCHAR[c] = true;
    }
    FIELD_VCHAR['\t'] = true;
    for (int c = 0x20; c < 256; c++) {
      FIELD_VCHAR[c] = c != 0x7f;
    }
  }

  private final boolean request;
  private final int maxStartLine;
  private final int maxHeadBytes;
  /** Bytes after the reader index already searched for the head's end; reset by each head. */
  private int searched;
  /**
   * The last complete head's bytes, copied once: one bulk copy makes every later look at a byte an
   * array read, not a bounds- and reference-checked buffer read (measured: twice as fast). A new
   * array of exactly the head's length per head: it becomes the message's own copy of its head
   * ({@link ClientRequest}, {@link UpstreamResponse}), so there is no second copy, and an idle
   * connection holds no parse buffer.
   */
  private byte[] scratch;

  public HeadParser(boolean request, int maxStartLine, int maxHeadBytes) {
    this.request = request;
    this.maxStartLine = maxStartLine;
    this.maxHeadBytes = maxHeadBytes;
  }

  /**
   * Parses the head at {@code buf}'s reader index without moving it.
   *
   * @return the head, or null while it is incomplete (call again with more bytes appended)
   * @throws HeadParseException when the bytes can never become an acceptable head
   */
  public HttpHead parse(ByteBuf buf) throws HeadParseException {
    int base = buf.readerIndex();
    int end = buf.writerIndex();
    int skipped = 0;
    if (request) {
      // RFC 9112 §2.2: empty lines before a request line are ignored (a client's stray CRLF after a body).
      while (base + skipped < end && isLineEnd(buf.getByte(base + skipped))) {
        skipped++;
      }
    }
    int from = base + Math.max(skipped, searched);
    int headEnd = -1;
    while (from < end) {
      int lf = buf.indexOf(from, end, (byte) '\n');
      if (lf < 0) {
        searched = end - base;
        break;
      }
      if (lf + 1 < end && buf.getByte(lf + 1) == '\n') {
        headEnd = lf + 2;
        break;
      }
      if (lf + 2 < end && buf.getByte(lf + 1) == '\r' && buf.getByte(lf + 2) == '\n') {
        headEnd = lf + 3;
        break;
      }
      if (lf + 2 >= end) {
        searched = lf - base; // the empty line may be arriving: search from this LF again
        break;
      }
      from = lf + 1;
    }
    if (headEnd < 0) {
      int firstLine = buf.indexOf(base + skipped, end, (byte) '\n');
      if (firstLine < 0 && end - base - skipped > maxStartLine) {
        throw new HeadParseException(HeadParseException.Kind.LINE_TOO_LONG, "start line too long");
      }
      if (end - base - skipped > maxHeadBytes) {
        throw new HeadParseException(HeadParseException.Kind.HEAD_TOO_LARGE, "head too large");
      }
      return null;
    }
    searched = 0;
    if (headEnd - base - skipped > maxHeadBytes) {
      throw new HeadParseException(HeadParseException.Kind.HEAD_TOO_LARGE, "head too large");
    }
    int length = headEnd - base;
    scratch = new byte[length];
    buf.getBytes(base, scratch, 0, length);
    return new Pass(scratch, skipped, length).run();
  }

  /** The bytes of the head last returned by {@link #parse}, at its offsets, exactly its length; the caller may keep them. */
  public byte[] headBytes() {
    return scratch;
  }

  /** Forgets a partly searched head (the bytes before the reader index were consumed otherwise). */
  public void reset() {
    searched = 0;
  }

  private static boolean isLineEnd(byte b) {
    return b == '\r' || b == '\n';
  }

  static HeadParseException malformed(String message) {
    return new HeadParseException(HeadParseException.Kind.MALFORMED, message);
  }

  /** Whether {@code length} bytes at {@code index} equal {@code lower} ignoring ASCII case. */
  static boolean equalsLowerCase(byte[] a, int index, int length, String lower) {
    if (length != lower.length()) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      int b = a[index + i];
      if (b >= 'A' && b <= 'Z') {
        b += 32;
      }
      if (b != lower.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code length} bytes at {@code index} equal {@code lower} ignoring ASCII case. */
  static boolean equalsLowerCase(ByteBuf buf, int index, int length, String lower) {
    if (length != lower.length()) {
      return false;
    }
    if (buf.hasArray()) {
      // The request heads are heap copies: the array itself, not getByte's bounds and
      // reference-count checks per byte (a head's names are compared several times per request).
      return equalsLowerCase(buf.array(), buf.arrayOffset() + index, length, lower);
    }
    for (int i = 0; i < length; i++) {
      int b = buf.getByte(index + i);
      if (b >= 'A' && b <= 'Z') {
        b += 32;
      }
      if (b != lower.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The field index of the parse in progress on this thread, reused from head to head (four ints per
   * field): each head keeps an exact copy ({@link HttpHead}), so a parse does not also allocate and
   * drop a working array of its own (272 bytes per head, request and response alike).
   */
  private static final FastThreadLocal<int[]> INDEX_SCRATCH = new FastThreadLocal<>() {
    @Override
    protected int[] initialValue() {
      return new int[64];
    }
  };
  /** A working index grown past this (a head of more than 256 fields) is not kept for the next head. */
  private static final int KEPT_INDEX = 1024;

  /** One parse of one complete head: the single pass, with its running facts as plain fields. */
  private final class Pass {
    private final byte[] a;
    private final int skipped;
    private final int length;
    private int pos;
    private int[] fields = INDEX_SCRATCH.get();
    private int fieldCount;
    private long contentLength = HttpHead.NO_LENGTH;
    private boolean transferEncoding;
    private boolean chunked;
    /** A {@code chunked} coding was seen in an earlier element or field: a second one is refused. */
    private boolean sawChunkedBefore;
    private boolean onlyChunked;
    /** A coding other than {@code chunked} is listed (gzip, or chunked with a parameter). */
    private boolean otherCodings;
    private int connection;
    private int hostCount;
    /** {@link FieldPresence}'s bits of the fields seen. */
    private int present;

    Pass(byte[] a, int skipped, int length) {
      this.a = a;
      this.skipped = skipped;
      this.length = length;
      this.pos = skipped;
    }

    private int at(int offset) {
      return a[offset] & 0xff;
    }

    /** The offset of the CR of the CRLF ending the line at {@link #pos}; refuses bare CR/LF. */
    private int lineEnd(int allowedFrom) throws HeadParseException {
      for (int i = pos; i < length; i++) {
        int b = at(i);
        if (b == '\r') {
          if (i + 1 >= length || at(i + 1) != '\n') {
            throw malformed("bare CR in head");
          }
          return i;
        }
        if (b == '\n') {
          throw malformed("bare LF in head");
        }
      }
      throw malformed("head without line end"); // cannot happen: the head's end was found
    }

    HttpHead run() throws HeadParseException {
      if (!request && (at(pos) == '\r' || at(pos) == '\n')) {
        // RFC 9112 §2.2 lets a server ignore empty lines before a request line, not a client before a
        // status line: bytes after a complete response that no framing accounts for (Netty skips them).
        throw malformed("empty line before the status line");
      }
      int lineCr = lineEnd(pos);
      if (lineCr - pos > maxStartLine) {
        throw new HeadParseException(HeadParseException.Kind.LINE_TOO_LONG, "start line too long");
      }
      int[] startLine;
      int major;
      int minor;
      int status = 0;
      if (request) {
        int methodEnd = token(pos, lineCr);
        if (methodEnd == pos || methodEnd >= lineCr || at(methodEnd) != ' ') {
          throw malformed("invalid request line");
        }
        int targetStart = methodEnd + 1;
        int targetEnd = targetStart;
        while (targetEnd < lineCr && at(targetEnd) > 0x20 && at(targetEnd) < 0x7f) {
          targetEnd++;
        }
        if (targetEnd == targetStart || targetEnd >= lineCr || at(targetEnd) != ' ') {
          throw malformed("invalid request line");
        }
        int versionStart = targetEnd + 1;
        if (lineCr - versionStart != 8) {
          throw malformed("invalid request line");
        }
        major = version(versionStart);
        minor = at(versionStart + 7) - '0';
        startLine = new int[] {pos, methodEnd, targetStart, targetEnd};
      } else {
        if (lineCr - pos < 12 || at(pos + 8) != ' ') {
          // A version and SP, then fewer than 3 bytes: the status code is what is wrong (RFC 9112 §4).
          throw malformed(lineCr - pos > 8 && at(pos + 8) == ' ' ? "invalid status code" : "invalid status line");
        }
        major = version(pos);
        minor = at(pos + 7) - '0';
        int code = 0;
        for (int i = pos + 9; i < pos + 12; i++) {
          int d = at(i) - '0';
          if (d < 0 || d > 9) {
            throw malformed("invalid status code");
          }
          code = code * 10 + d;
        }
        if (code < 100) {
          throw malformed("invalid status code");
        }
        status = code;
        int reasonStart = pos + 12;
        if (reasonStart < lineCr) {
          if (at(reasonStart) != ' ') {
            // status-code = 3DIGIT (RFC 9112 §4): a fourth digit makes the code invalid, not the line
            throw malformed(at(reasonStart) >= '0' && at(reasonStart) <= '9' ? "invalid status code" : "invalid status line");
          }
          reasonStart++;
          for (int i = reasonStart; i < lineCr; i++) {
            if (!FIELD_VCHAR[at(i)]) {
              throw malformed("control character in status line");
            }
          }
        }
        startLine = new int[] {reasonStart, lineCr};
      }
      pos = lineCr + 2;
      while (true) {
        int b = at(pos);
        if (b == '\r') {
          if (pos + 2 != length || at(pos + 1) != '\n') {
            throw malformed("bare CR in head");
          }
          break;
        }
        if (b == ' ' || b == '\t') {
          throw malformed("obsolete line folding in header field"); // RFC 9112 §5.2
        }
        field();
      }
      if (contentLength != HttpHead.NO_LENGTH && transferEncoding) {
        // RFC 9112 §6.3 item 3: either framing could be the one a peer believes; refuse both.
        throw malformed("both Content-Length and Transfer-Encoding");
      }
      if (transferEncoding && major == 1 && minor == 0) {
        // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing (an HTTP/1.0
        // hop in between may have passed a coding it does not know); its end cannot be trusted.
        throw malformed("Transfer-Encoding in an HTTP/1.0 message");
      }
      int[] index = java.util.Arrays.copyOf(fields, 4 * fieldCount); // the working index is the next head's
      return new HttpHead(request, skipped, length, startLine, major, minor, status, index, fieldCount,
          contentLength, transferEncoding, chunked, onlyChunked, otherCodings, connection, hostCount, present);
    }

    /** {@code HTTP/d.d} at {@code offset}: returns the major digit. */
    private int version(int offset) throws HeadParseException {
      if (at(offset) != 'H' || at(offset + 1) != 'T' || at(offset + 2) != 'T' || at(offset + 3) != 'P'
          || at(offset + 4) != '/' || at(offset + 6) != '.' || !digit(at(offset + 5)) || !digit(at(offset + 7))) {
        throw malformed("invalid HTTP version");
      }
      return at(offset + 5) - '0';
    }

    private boolean digit(int b) {
      return b >= '0' && b <= '9';
    }

    /** The end of the token starting at {@code from}. */
    private int token(int from, int limit) {
      int i = from;
      while (i < limit && TCHAR[at(i)]) {
        i++;
      }
      return i;
    }

    private void field() throws HeadParseException {
      int nameEnd = token(pos, length);
      if (nameEnd == pos || at(nameEnd) != ':') {
        // RFC 9112 §5.1: no whitespace between name and colon; anything else is not a name either.
        if (at(nameEnd) == '\n') {
          throw malformed("bare LF in head");
        }
        throw malformed("invalid header field name");
      }
      int valueStart = nameEnd + 1;
      int lineCr = valueStart;
      while (true) {
        int b = a[lineCr] & 0xff;
        if (FIELD_VCHAR[b]) {
          lineCr++;
          continue;
        }
        if (b == '\r') {
          if (a[lineCr + 1] != '\n') {
            throw malformed("bare CR in head");
          }
          break;
        }
        throw malformed(b == '\n' ? "bare LF in head" : "control character in header field value");
      }
      int valueEnd = lineCr;
      while (valueStart < valueEnd && isOws(at(valueStart))) {
        valueStart++;
      }
      while (valueEnd > valueStart && isOws(at(valueEnd - 1))) {
        valueEnd--;
      }
      if (4 * fieldCount + 4 > fields.length) {
        fields = java.util.Arrays.copyOf(fields, fields.length * 2);
        if (fields.length <= KEPT_INDEX) {
          INDEX_SCRATCH.set(fields);
        }
      }
      int slot = 4 * fieldCount++;
      fields[slot] = pos;
      fields[slot + 1] = nameEnd;
      fields[slot + 2] = valueStart;
      fields[slot + 3] = valueEnd;
      framingFact(pos, nameEnd, valueStart, valueEnd);
      pos = lineCr + 2;
    }

    private boolean isOws(int b) {
      return b == ' ' || b == '\t';
    }

    private boolean nameIs(int from, int to, String lower) {
      return equalsLowerCase(a, from, to - from, lower);
    }

    /**
     * The facts a field adds: which hop-by-hop field it is, or {@code Date} or {@code Via}
     * ({@link FieldPresence#of}, the one list of their names), and the framing (length, codings,
     * {@code Connection}'s tokens, {@code Host}), so that no later step walks the fields again to ask.
     */
    private void framingFact(int nameStart, int nameEnd, int valueStart, int valueEnd) throws HeadParseException {
      int noted = FieldPresence.of(a, nameStart, nameEnd); // the names noted, told apart in one place
      present |= noted;
      if (noted == HopByHop.CONNECTION_PRESENT) {
        connectionTokens(valueStart, valueEnd);
      } else if (noted == HopByHop.TRANSFER_ENCODING_PRESENT) {
        transferCodings(valueStart, valueEnd);
      } else if (noted == 0) {
        int length = nameEnd - nameStart;
        if (length == 4 && nameIs(nameStart, nameEnd, "host")) {
          hostCount++;
        } else if (length == 14 && nameIs(nameStart, nameEnd, "content-length")) {
          contentLength(valueStart, valueEnd);
        }
      }
    }

    /** RFC 9110 §8.6: one run of digits; a second field or a list is refused, not reconciled. */
    private void contentLength(int from, int to) throws HeadParseException {
      if (contentLength != HttpHead.NO_LENGTH) {
        throw malformed("multiple Content-Length fields");
      }
      if (from == to) {
        throw malformed("invalid Content-Length");
      }
      long value = 0;
      for (int i = from; i < to; i++) {
        int d = at(i) - '0';
        if (d < 0 || d > 9) {
          throw malformed("invalid Content-Length");
        }
        if (value > (Long.MAX_VALUE - d) / 10) {
          throw malformed("Content-Length overflows");
        }
        value = value * 10 + d;
      }
      contentLength = value;
    }

    /** Bounds of the last element {@link #listElement} read, without its surrounding OWS. */
    private int elementFrom;
    private int elementTo;

    /**
     * Reads the list element (RFC 9110 §5.6.1) that starts at {@code start} and ends at the next
     * comma or {@code to}: sets {@link #elementFrom}/{@link #elementTo} to it without OWS (empty
     * when they are equal) and returns where the next element starts. With {@code quoted}, a comma
     * inside a quoted-string (§5.6.4, a transfer-parameter's value) does not end the element; an
     * unterminated one runs to {@code to}, which no element grammar then accepts.
     */
    private int listElement(int start, int to, boolean quoted) {
      int end = start;
      while (end < to && at(end) != ',') {
        if (quoted && at(end) == '"') {
          int close = quotedStringEnd(end, to);
          end = close < 0 ? to : close;
        } else {
          end++;
        }
      }
      int a = start;
      int b = end;
      while (a < b && isOws(at(a))) {
        a++;
      }
      while (b > a && isOws(at(b - 1))) {
        b--;
      }
      elementFrom = a;
      elementTo = b;
      return end + 1;
    }

    /**
     * RFC 9112 §6.1: the codings in order; chunked must be the last one (§6.3 item 4). Each must be a
     * transfer-coding (RFC 9110 §10.1.4); a value that is none ("g/zip", obs-text) is malformed: the
     * framing of a message whose codings cannot be read is not one to guess (Netty refused it too;
     * found by HeadParserFuzzTest: a response read until close behind a garbled coding). And a
     * sender MUST NOT apply chunked more than once (§6.1): read by its outer layer, such a body would
     * reach the next hop still chunked inside, so the message is malformed, request (400) or response
     * (502) alike, across fields too (a later field continues the list, RFC 9110 §5.3).
     */
    private void transferCodings(int from, int to) throws HeadParseException {
      boolean first = !transferEncoding;
      transferEncoding = true;
      boolean last = chunked; // what earlier fields ended with: an empty field leaves it so
      int codings = 0;
      int start = from;
      while (start <= to) {
        int next = listElement(start, to, true);
        int a = elementFrom;
        int b = elementTo;
        if (b > a) {
          if (!isTransferCoding(a, b)) {
            throw malformed("invalid Transfer-Encoding");
          }
          codings++;
          last = nameIs(a, b, "chunked");
          if (last && sawChunkedBefore) {
            throw malformed("chunked applied more than once");
          }
          sawChunkedBefore |= last;
          otherCodings |= !last;
        } // an empty element ("chunked," or ", chunked") is ignored (RFC 9110 §5.6.1): the last coding stays the last
        start = next;
      }
      // A later Transfer-Encoding field continues the list (RFC 9110 §5.3).
      chunked = last;
      onlyChunked = first && codings == 1 && last && from < to && to - from == 7;
    }

    /**
     * RFC 9110 §10.1.4: transfer-coding = token *( OWS ";" OWS transfer-parameter ),
     * transfer-parameter = token BWS "=" BWS ( token / quoted-string ).
     */
    private boolean isTransferCoding(int from, int to) {
      int i = token(from, to);
      if (i == from) {
        return false;
      }
      while (true) {
        i = skipOws(i, to);
        if (i == to) {
          return true;
        }
        if (at(i) != ';') {
          return false;
        }
        i = skipOws(i + 1, to);
        int nameEnd = token(i, to);
        if (nameEnd == i) {
          return false;
        }
        i = skipOws(nameEnd, to);
        if (i == to || at(i) != '=') {
          return false;
        }
        i = skipOws(i + 1, to);
        if (i < to && at(i) == '"') {
          i = quotedStringEnd(i, to);
          if (i < 0) {
            return false;
          }
        } else {
          int valueEnd = token(i, to);
          if (valueEnd == i) {
            return false;
          }
          i = valueEnd;
        }
      }
    }

    private int skipOws(int i, int to) {
      while (i < to && isOws(at(i))) {
        i++;
      }
      return i;
    }

    /** After the quoted-string opening at {@code from} (RFC 9110 §5.6.4), or -1 if there is none. */
    private int quotedStringEnd(int from, int to) {
      for (int i = from + 1; i < to; i++) {
        int b = at(i);
        if (b == '"') {
          return i + 1;
        }
        if (b == '\\') {
          i++;
          if (i >= to || !FIELD_VCHAR[at(i)]) {
            return -1;
          }
        } else if (!FIELD_VCHAR[b]) {
          return -1;
        }
      }
      return -1;
    }

    private void connectionTokens(int from, int to) {
      int start = from;
      while (start <= to) {
        int next = listElement(start, to, false);
        int a = elementFrom;
        int b = elementTo;
        if (b > a) {
          if (nameIs(a, b, "close")) {
            connection |= HttpHead.CONNECTION_CLOSE;
          } else if (nameIs(a, b, "keep-alive")) {
            connection |= HttpHead.CONNECTION_KEEP_ALIVE;
          } else if (nameIs(a, b, "upgrade")) {
            connection |= HttpHead.CONNECTION_UPGRADE;
          } else {
            connection |= HttpHead.CONNECTION_NAMES_FIELDS;
          }
        }
        start = next;
      }
    }
  }
}
