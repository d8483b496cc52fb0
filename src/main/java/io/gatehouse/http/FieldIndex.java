package io.gatehouse.http;

import java.util.Arrays;

/**
 * The field index of a head being written by a builder (an HTTP/2 header block turned into an
 * HTTP/1.1 head: {@link Http2RequestHead}, {@link Http2UpstreamResponseHead}): four offsets per
 * field, as {@link HttpHead} keeps them, and the {@code Content-Length} read on the way, checked as
 * the parser checks it. Event-loop confined; one per head.
 */
final class FieldIndex {
  private int[] offsets = new int[32];
  private int count;
  private long contentLength = HttpHead.NO_LENGTH;

  /** Indexes the next field: its name's and its value's offsets (the value without surrounding OWS). */
  void add(int nameStart, int nameEnd, int valueStart, int valueEnd) {
    if (4 * count + 4 > offsets.length) {
      offsets = Arrays.copyOf(offsets, offsets.length * 2);
    }
    int slot = 4 * count++;
    offsets[slot] = nameStart;
    offsets[slot + 1] = nameEnd;
    offsets[slot + 2] = valueStart;
    offsets[slot + 3] = valueEnd;
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
}
