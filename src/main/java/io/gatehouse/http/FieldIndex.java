package io.gatehouse.http;

import io.netty.util.AsciiString;
import java.util.Arrays;

/**
 * The field index of a head being written by a builder (an HTTP/2 header block turned into an
 * HTTP/1.1 head: {@link Http2RequestHead}, {@link Http2UpstreamResponseHead}): four offsets per
 * field, as {@link HttpHead} keeps them, and the {@code Content-Length} read on the way, checked as
 * the parser checks it; with the rules both builders apply to the bytes they write ({@link #copy},
 * {@link #checkName}, {@link #checkValue}). Event-loop confined; one per head.
 */
final class FieldIndex {
  private int[] offsets = new int[32];
  private int count;
  private long contentLength = HttpHead.NO_LENGTH;
  private int fieldsPresent;

  /**
   * Indexes the next field, written in {@code a}: its name's and its value's offsets (the value
   * without surrounding OWS); notes whether it is one of the fields {@link FieldPresence} notes.
   */
  void add(byte[] a, int nameStart, int nameEnd, int valueStart, int valueEnd) {
    fieldsPresent |= FieldPresence.of(a, nameStart, nameEnd);
    if (4 * count + 4 > offsets.length) {
      offsets = Arrays.copyOf(offsets, offsets.length * 2);
    }
    int slot = 4 * count++;
    offsets[slot] = nameStart;
    offsets[slot + 1] = nameEnd;
    offsets[slot + 2] = valueStart;
    offsets[slot + 3] = valueEnd;
  }

  /** {@link FieldPresence}'s bits of the fields added ({@link HttpHead#fieldsPresent()}). */
  int fieldsPresent() {
    return fieldsPresent;
  }

  int count() {
    return count;
  }

  /** The offsets, exactly {@code 4 * count()} of them. */
  int[] offsets() {
    return Arrays.copyOf(offsets, 4 * count);
  }

  /**
   * Reads a {@code content-length} value: one run of digits, once per head (RFC 9110 §8.6).
   *
   * @throws IllegalArgumentException otherwise
   */
  void contentLength(CharSequence value) {
    if (contentLength != HttpHead.NO_LENGTH) {
      throw new IllegalArgumentException("multiple content-length fields");
    }
    if (value.length() == 0) {
      throw new IllegalArgumentException("invalid content-length");
    }
    long n = 0;
    for (int i = 0; i < value.length(); i++) {
      int d = value.charAt(i) - '0';
      if (d < 0 || d > 9) {
        throw new IllegalArgumentException("invalid content-length");
      }
      if (n > (Long.MAX_VALUE - d) / 10) {
        throw new IllegalArgumentException("content-length overflows");
      }
      n = n * 10 + d;
    }
    contentLength = n;
  }

  /** The {@code content-length} read, or {@link HttpHead#NO_LENGTH}. */
  long contentLength() {
    return contentLength;
  }

  /**
   * Copies {@code s}'s bytes into {@code dst} at {@code at} (HPACK gives byte strings; a char above
   * 0xFF cannot be one), which has room; returns the end.
   */
  static int copy(CharSequence s, byte[] dst, int at) {
    int n = s.length();
    if (s instanceof AsciiString ascii) {
      System.arraycopy(ascii.array(), ascii.arrayOffset(), dst, at, n);
      return at + n;
    }
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c > 0xff) {
        throw new IllegalArgumentException("a character outside ISO-8859-1 in a field");
      }
      dst[at + i] = (byte) c;
    }
    return at + n;
  }

  /** RFC 9110 §5.1: the name written at {@code a[from, to)} is a token. */
  static void checkName(byte[] a, int from, int to) {
    if (from == to) {
      throw new IllegalArgumentException("empty field name");
    }
    for (int i = from; i < to; i++) {
      if (!HeadParser.TCHAR[a[i] & 0xff]) {
        throw new IllegalArgumentException("field name is not a token (RFC 9110 §5.1)");
      }
    }
  }

  /**
   * RFC 9110 §5.5: {@code value} has no control byte but HTAB, and no DEL (in an HTTP/1 head a CR
   * or LF would make a line of its own; HPACK carries any octet, RFC 9113 §8.2.1).
   */
  static void checkValue(CharSequence value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c > 0xff || !HeadParser.FIELD_VCHAR[c]) {
        throw new IllegalArgumentException("control byte in a field value (RFC 9110 §5.5)");
      }
    }
  }

  /** The same check on the value written at {@code a[from, to)}. */
  static void checkValue(byte[] a, int from, int to) {
    for (int i = from; i < to; i++) {
      if (!HeadParser.FIELD_VCHAR[a[i] & 0xff]) {
        throw new IllegalArgumentException("control byte in a field value (RFC 9110 §5.5)");
      }
    }
  }
}
