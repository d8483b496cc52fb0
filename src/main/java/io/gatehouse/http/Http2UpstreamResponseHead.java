package io.gatehouse.http;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/**
 * The response HEADERS of an HTTP/2 upstream written once as an HTTP/1.1 head and indexed as
 * {@link HeadParser} would index it: the result is the {@link UpstreamResponse} an HTTP/1.1
 * upstream gives, so the relay frames it with the same facts and forwards it to the client by
 * ranges, with no header objects (the inverse of {@link Http2ResponseHead}, which the client side
 * uses to turn such a head into HEADERS).
 *
 * <p>The head: {@code HTTP/1.1 code reason}, the regular fields in order (values trimmed of
 * surrounding whitespace, as the parser indexes them), then {@code content-length: 0} when asked (a
 * response whose HEADERS end the stream has an empty body: gRPC's trailers-only answer). Refused
 * ({@link IllegalArgumentException}, which the codec answers 502): a field name that is not a token
 * (RFC 9110 §5.1), a value with a control byte other than HTAB (§5.5; written into an HTTP/1 head, a
 * CR or LF would make lines of their own), a {@code content-length} that is not one run of digits
 * or comes twice, and the connection-specific fields that would change the framing
 * ({@code connection}, {@code transfer-encoding}, {@code upgrade}; RFC 9113 §8.2.2: the frame codec
 * already refuses them). Stateless; one builder per response.
 */
final class Http2UpstreamResponseHead {
  private static final byte[] HTTP_1_1 = "HTTP/1.1 ".getBytes(StandardCharsets.US_ASCII);
  private static final AsciiString CONTENT_LENGTH = AsciiString.cached("content-length");
  private static final AsciiString ZERO = AsciiString.cached("0");

  private byte[] a = new byte[256];
  private int length;
  private final FieldIndex fields = new FieldIndex();

  private Http2UpstreamResponseHead() {}

  /**
   * @param status the response's {@code :status}, three digits, 200 or more (the caller checked)
   * @param whole the stream ended with these HEADERS: the response is whole, its body empty
   * @param lengthZero add {@code content-length: 0}
   * @return the response, as an HTTP/1.1 upstream's would be read (a whole one, as for a body that
   *     came with its head)
   * @throws IllegalArgumentException for fields an HTTP/1.1 head cannot carry
   */
  static UpstreamResponse of(int status, Http2Headers headers, boolean whole, boolean lengthZero) {
    return new Http2UpstreamResponseHead().build(status, headers, whole, lengthZero);
  }

  private UpstreamResponse build(int status, Http2Headers headers, boolean whole, boolean lengthZero) {
    append(HTTP_1_1);
    ensure(4);
    a[length++] = (byte) ('0' + status / 100);
    a[length++] = (byte) ('0' + status / 10 % 10);
    a[length++] = (byte) ('0' + status % 10);
    a[length++] = ' ';
    int reasonStart = length;
    String reason = HttpResponseStatus.valueOf(status).reasonPhrase();
    ensure(reason.length());
    length = FieldIndex.copy(reason, a, length);
    int reasonEnd = length;
    crlf();
    for (Map.Entry<CharSequence, CharSequence> field : headers) {
      CharSequence name = field.getKey();
      if (name.length() > 0 && name.charAt(0) == ':') {
        continue; // pseudo-header fields: :status was read by the caller
      }
      field(name, field.getValue());
    }
    if (lengthZero) {
      field(CONTENT_LENGTH, ZERO);
    }
    crlf();
    HttpHead head = new HttpHead(false, 0, length, new int[] {reasonStart, reasonEnd}, 1, 1, status,
        fields.offsets(), fields.count(), fields.contentLength(), false, false, false, false, 0, 0, fields.fieldsPresent());
    byte[] bytes = Arrays.copyOf(a, length);
    return whole ? new UpstreamFullResponse(head, bytes, Unpooled.EMPTY_BUFFER) : new UpstreamResponse(head, bytes);
  }

  /** {@code name: value CRLF}, indexed, the value without surrounding whitespace. */
  private void field(CharSequence name, CharSequence value) {
    ensure(name.length() + value.length() + 4);
    int nameStart = length;
    length = FieldIndex.copy(name, a, length);
    int nameEnd = length;
    FieldIndex.checkName(a, nameStart, nameEnd);
    framingFact(name, value);
    a[length++] = ':';
    a[length++] = ' ';
    int start = length;
    length = FieldIndex.copy(value, a, length);
    FieldIndex.checkValue(a, start, length);
    int end = length;
    while (start < end && (a[start] == ' ' || a[start] == '\t')) {
      start++;
    }
    while (end > start && (a[end - 1] == ' ' || a[end - 1] == '\t')) {
      end--;
    }
    crlf();
    fields.add(a, nameStart, nameEnd, start, end);
  }

  /** The facts the relay frames by; {@code name} is lower case (HPACK, §8.2.1). */
  private void framingFact(CharSequence name, CharSequence value) {
    switch (name.length()) {
      case 7:
        if (AsciiString.contentEqualsIgnoreCase(name, "upgrade")) {
          throw connectionSpecific(name);
        }
        break;
      case 10:
        if (AsciiString.contentEqualsIgnoreCase(name, "connection")) {
          throw connectionSpecific(name);
        }
        break;
      case 14:
        if (AsciiString.contentEqualsIgnoreCase(name, "content-length")) {
          fields.contentLength(AsciiString.trim(value));
        }
        break;
      case 17:
        if (AsciiString.contentEqualsIgnoreCase(name, "transfer-encoding")) {
          throw connectionSpecific(name);
        }
        break;
      default:
    }
  }

  private static IllegalArgumentException connectionSpecific(CharSequence name) {
    return new IllegalArgumentException("connection-specific field " + name + " (RFC 9113 §8.2.2)");
  }

  private void append(byte[] bytes) {
    ensure(bytes.length);
    System.arraycopy(bytes, 0, a, length, bytes.length);
    length += bytes.length;
  }

  private void crlf() {
    ensure(2);
    a[length++] = '\r';
    a[length++] = '\n';
  }

  private void ensure(int more) {
    if (length + more > a.length) {
      a = Arrays.copyOf(a, Math.max(a.length * 2, length + more));
    }
  }
}
