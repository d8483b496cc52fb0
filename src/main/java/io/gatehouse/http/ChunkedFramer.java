package io.gatehouse.http;

import io.netty.buffer.ByteBuf;

/**
 * Finds where a chunked body ends (RFC 9112 §7.1) without copying or decoding it, so the body can be
 * passed on verbatim as slices of the received buffers. Strict: a chunk size is one or more hex
 * digits, below 2 GiB; extensions follow their grammar (§7.1.1: token names, token or
 * quoted-string values); trailer fields (§7.1.2) hold no control bytes but HTAB; every line ends in CRLF (a bare CR or LF is refused); obs-fold and
 * whitespace before a trailer field's colon are refused; the trailer section is bounded. One
 * instance per message; event-loop confined, plain fields.
 */
public final class ChunkedFramer {
  private static final int SIZE = 0;
  private static final int SIZE_TAIL = 1;
  private static final int EXTENSION = 2;
  private static final int SIZE_LF = 3;
  private static final int DATA = 4;
  private static final int DATA_CR = 5;
  private static final int DATA_LF = 6;
  private static final int TRAILER_START = 7;
  private static final int TRAILER_NAME = 8;
  private static final int TRAILER_VALUE = 9;
  private static final int TRAILER_LF = 10;
  private static final int END_LF = 11;
  private static final int DONE = 12;

  /** Where in the chunk extensions (state EXTENSION) the framer is. */
  private static final int EXT_BEFORE_NAME = 0;
  private static final int EXT_NAME = 1;
  private static final int EXT_AFTER_NAME = 2;
  private static final int EXT_BEFORE_VALUE = 3;
  private static final int EXT_TOKEN = 4;
  private static final int EXT_QUOTED = 5;
  private static final int EXT_QUOTED_PAIR = 6;
  private static final int EXT_AFTER_VALUE = 7;

  private final int maxTrailerBytes;
  private int state = SIZE;
  private int ext;
  private int digits;
  private long size;
  private long remaining;
  private long dataBytes;
  private int chunks;
  private int trailerBytes;
  private boolean nameStarted;
  /** The chunk line's last byte was SP or HTAB (after the size): it may not end there. */
  private boolean lineWs;

  public ChunkedFramer(int maxTrailerBytes) {
    this.maxTrailerBytes = maxTrailerBytes;
  }

  /**
   * Where the framer is, when that is between two framing elements (in or right after a chunk's
   * data, or before a chunk-size line); null in the middle of a size line or the trailer section.
   */
  BodyPosition position() {
    return switch (state) {
      case DATA -> new BodyPosition(BodyPosition.CHUNK_DATA, remaining);
      case DATA_CR -> new BodyPosition(BodyPosition.CHUNK_END, 0);
      case DATA_LF -> new BodyPosition(BodyPosition.CHUNK_END_LF, 0);
      case SIZE -> digits == 0 ? new BodyPosition(BodyPosition.CHUNK_SIZE, 0) : null;
      default -> null;
    };
  }

  /** A new framer goes on from {@code at}, where another read of the same body stopped. */
  void resumeAt(BodyPosition at) {
    switch (at.framing()) {
      case BodyPosition.CHUNK_DATA -> {
        state = DATA;
        remaining = at.remaining();
      }
      case BodyPosition.CHUNK_END -> state = DATA_CR;
      case BodyPosition.CHUNK_END_LF -> state = DATA_LF;
      case BodyPosition.CHUNK_SIZE -> state = SIZE;
      default -> throw new IllegalArgumentException("not a place in a chunked body: " + at);
    }
  }

  /** Whether the last chunk and the trailer section were read: the message ended. */
  public boolean done() {
    return state == DONE;
  }

  /** Bytes of chunk data seen so far (the decoded body's length). */
  public long dataBytes() {
    return dataBytes;
  }

  /** Data chunks seen so far, the last (empty) chunk not counted. */
  public int chunks() {
    return chunks;
  }

  /** Whether the next bytes are chunk data ({@link #dataRemaining()} of them). */
  public boolean inData() {
    return state == DATA;
  }

  public long dataRemaining() {
    return remaining;
  }

  /** The caller took {@code n} bytes of chunk data (at most {@link #dataRemaining()}). */
  public void dataTaken(int n) {
    remaining -= n;
    dataBytes += n;
    if (remaining == 0) {
      state = DATA_CR;
    }
  }

  /** Whether the last chunk was read and the trailer section (RFC 9112 §7.1.2) is being read. */
  public boolean inTrailer() {
    return state >= TRAILER_START && state != DONE;
  }

  /**
   * Reads framing bytes of {@code buf[from, to)} up to the next chunk data, the start of the
   * trailer section, or the message's end.
   *
   * @return how many bytes were read
   */
  public int consumeFraming(ByteBuf buf, int from, int to) throws HeadParseException {
    boolean beforeTrailer = !inTrailer();
    int i = from;
    while (i < to && state != DONE && state != DATA && !(beforeTrailer && state == TRAILER_START)) {
      step(buf.getByte(i) & 0xff);
      i++;
    }
    return i - from;
  }

  /**
   * Reads {@code buf[from, to)}, which continues the body.
   *
   * @return how many of those bytes belong to this message: all of them unless it ended inside
   * @throws HeadParseException on framing the RFC forbids; the message cannot be passed on
   */
  public int consume(ByteBuf buf, int from, int to) throws HeadParseException {
    int i = from;
    while (i < to && state != DONE) {
      if (state == DATA) {
        int n = (int) Math.min(remaining, to - i);
        remaining -= n;
        dataBytes += n;
        i += n;
        if (remaining == 0) {
          state = DATA_CR;
        }
        continue;
      }
      step(buf.getByte(i) & 0xff);
      i++;
    }
    return i - from;
  }

  private void step(int b) throws HeadParseException {
    switch (state) {
      case SIZE:
        int hex = hex(b);
        if (hex >= 0) {
          size = (size << 4) | hex;
          if (size > Integer.MAX_VALUE) {
            // Netty's decoder refuses a chunk of 2 GiB or more; that rule stays (fuzzing found it).
            throw HeadParser.malformed("chunk size overflows");
          }
          digits++;
          return;
        }
        if (digits == 0) {
          throw HeadParser.malformed("invalid chunk size");
        }
        state = SIZE_TAIL;
        step(b);
        return;
      case SIZE_TAIL:
        if (b == ' ' || b == '\t') {
          lineWs = true; // BWS before an extension (RFC 9112 §7.1.1), and only there
          return;
        }
        if (b == ';') {
          lineWs = false;
          state = EXTENSION;
          ext = EXT_BEFORE_NAME;
          return;
        }
        lineEnd(b, SIZE_LF, "invalid chunk size");
        return;
      case EXTENSION:
        extension(b);
        lineWs = b == ' ' || b == '\t';
        return;
      case SIZE_LF:
        lineWs = false;
        expectLf(b);
        if (size == 0) {
          state = TRAILER_START;
        } else {
          chunks++;
          remaining = size;
          state = DATA;
        }
        size = 0;
        digits = 0;
        return;
      case DATA_CR:
        if (b != '\r') {
          throw HeadParser.malformed("chunk data longer than its size");
        }
        state = DATA_LF;
        return;
      case DATA_LF:
        expectLf(b);
        state = SIZE;
        return;
      case TRAILER_START:
        if (b == '\r') {
          state = END_LF;
          return;
        }
        if (b == ' ' || b == '\t') {
          throw HeadParser.malformed("obsolete line folding in trailer field");
        }
        nameStarted = false;
        state = TRAILER_NAME;
        step(b);
        return;
      case TRAILER_NAME:
        countTrailer();
        if (HeadParser.TCHAR[b]) {
          nameStarted = true;
          return;
        }
        if (b != ':' || !nameStarted) {
          throw HeadParser.malformed("invalid trailer field name");
        }
        state = TRAILER_VALUE;
        return;
      case TRAILER_VALUE:
        countTrailer();
        if (b == '\r') {
          state = TRAILER_LF;
          return;
        }
        if (!HeadParser.FIELD_VCHAR[b]) {
          throw HeadParser.malformed("control character in trailer field");
        }
        return;
      case TRAILER_LF:
        expectTrailerLf(b);
        state = TRAILER_START;
        return;
      case END_LF:
        expectTrailerLf(b);
        state = DONE;
        return;
      default:
        throw new IllegalStateException("state " + state);
    }
  }

  /**
   * One byte of the chunk extensions after a ';' (RFC 9112 §7.1.1), by their grammar:
   * {@code *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )}. Nothing is
   * repaired: a stray "=", an unterminated quote or a control byte is a malformed body (Netty's
   * decoder refuses them too; a looser reading here disagreed with it, found by HeadParserFuzzTest).
   */
  private void extension(int b) throws HeadParseException {
    boolean ws = b == ' ' || b == '\t';
    switch (ext) {
      case EXT_BEFORE_NAME:
        if (ws) {
          return;
        }
        if (!HeadParser.TCHAR[b]) {
          throw HeadParser.malformed("invalid chunk extension");
        }
        ext = EXT_NAME;
        return;
      case EXT_NAME:
      case EXT_AFTER_NAME:
        if (HeadParser.TCHAR[b] && ext == EXT_NAME) {
          return;
        }
        if (ws) {
          ext = EXT_AFTER_NAME;
        } else if (b == '=') {
          ext = EXT_BEFORE_VALUE;
        } else {
          extensionEnd(b);
        }
        return;
      case EXT_BEFORE_VALUE:
        if (ws) {
          return;
        }
        if (b == '"') {
          ext = EXT_QUOTED;
        } else if (HeadParser.TCHAR[b]) {
          ext = EXT_TOKEN;
        } else {
          throw HeadParser.malformed("invalid chunk extension");
        }
        return;
      case EXT_TOKEN:
      case EXT_AFTER_VALUE:
        if (HeadParser.TCHAR[b] && ext == EXT_TOKEN) {
          return;
        }
        if (ws) {
          ext = EXT_AFTER_VALUE;
        } else {
          extensionEnd(b);
        }
        return;
      case EXT_QUOTED:
        // qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4)
        if (b == '"') {
          ext = EXT_AFTER_VALUE;
        } else if (b == '\\') {
          ext = EXT_QUOTED_PAIR;
        } else if (!HeadParser.FIELD_VCHAR[b]) {
          throw HeadParser.malformed("invalid chunk extension");
        }
        return;
      case EXT_QUOTED_PAIR:
        if (!HeadParser.FIELD_VCHAR[b]) {
          throw HeadParser.malformed("invalid chunk extension");
        }
        ext = EXT_QUOTED;
        return;
      default:
        throw new IllegalStateException("extension state " + ext);
    }
  }

  /** After an extension's name or value: another extension, or the chunk-size line's CRLF. */
  private void extensionEnd(int b) throws HeadParseException {
    if (b == ';') {
      ext = EXT_BEFORE_NAME;
      return;
    }
    lineEnd(b, SIZE_LF, "invalid chunk extension");
  }

  private void countTrailer() throws HeadParseException {
    if (++trailerBytes > maxTrailerBytes) {
      throw new HeadParseException(HeadParseException.Kind.HEAD_TOO_LARGE, "trailer section too large");
    }
  }

  private void lineEnd(int b, int next, String otherwise) throws HeadParseException {
    if (b != '\r') {
      throw HeadParser.malformed(b == '\n' ? "bare LF in chunked body" : otherwise);
    }
    if (lineWs) {
      // RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF, with BWS only before ';' and around '=' (§7.1.1):
      // "5 " or "5;a=b " then CRLF is no chunk line (Netty refuses "5 "; found by HeadParserFuzzTest).
      throw HeadParser.malformed("whitespace at the end of a chunk line");
    }
    state = next;
  }

  private static void expectLf(int b) throws HeadParseException {
    if (b != '\n') {
      throw HeadParser.malformed("bare CR in chunked body");
    }
  }

  /**
   * A bare CR in the trailer section (RFC 9112 §2.2) says so: unlike one in a chunk line, it is judged
   * by the section's end (Netty reads trailer lines until the empty line), which the differential
   * fuzzer needs to tell apart.
   */
  private static void expectTrailerLf(int b) throws HeadParseException {
    if (b != '\n') {
      throw HeadParser.malformed("bare CR in trailer section");
    }
  }

  private static int hex(int b) {
    if (b >= '0' && b <= '9') {
      return b - '0';
    }
    if (b >= 'a' && b <= 'f') {
      return b - 'a' + 10;
    }
    if (b >= 'A' && b <= 'F') {
      return b - 'A' + 10;
    }
    return -1;
  }
}
