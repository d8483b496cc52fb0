package io.gatehouse.http;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/**
 * An HTTP/2 request's header block written once as the HTTP/1.1 head an upstream gets, indexed as
 * {@link HeadParser} would index it: the result is the same {@link ClientRequest} the HTTP/1
 * decoder makes, so the request path reads and edits its fields as bytes and the upstream codec
 * writes it by ranges, with no header objects on the way.
 *
 * <p>The head: {@code method SP target SP HTTP/1.1} (the target is {@code :path}, or
 * {@code :authority} for a CONNECT, RFC 9113 §8.5), {@code host} from {@code :authority}
 * (§8.3.1), the regular fields in order, the {@code cookie} fields joined with "; " (§8.2.3), and
 * {@code transfer-encoding: chunked} for a body without {@code content-length} (legal in HTTP/2,
 * §8.1; chunked is how an HTTP/1.1 hop delimits it), except on a CONNECT, whose DATA are a tunnel's
 * bytes (§8.5). {@code :scheme} goes with the request ({@link ClientRequest#http2Scheme}): a forward
 * proxy needs it for the target.
 *
 * <p>What HTTP/1 cannot carry is refused ({@link IllegalArgumentException}), as the header objects
 * this replaces refused it: a method that is not a token (RFC 9110 §9.1), a field name that is not a
 * token (§5.1), a value with a control byte other than HTAB or starting with whitespace (§5.5), a
 * {@code host} that contradicts {@code :authority} (RFC 9113 §8.3.1), and a request target with a
 * byte outside VCHAR (RFC 9112 §3.2: it would break the request line). The frame codec already refused
 * connection-specific fields (§8.2.2); they are refused here too, so the head's facts are exact by
 * construction. {@code content-length} must be one run of digits, once (RFC 9110 §8.6).
 * Fields only this hop's conversion uses ({@code trailer}: the trailers go as the body's last part;
 * {@code x-http2-*}) are left out. Stateless; one builder per request.
 */
final class Http2RequestHead {
  private static final byte[] HTTP_1_1_CRLF = " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] HOST = "host".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] COOKIE = "cookie".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CHUNKED = "transfer-encoding: chunked\r\n".getBytes(StandardCharsets.US_ASCII);

  private byte[] a = new byte[256];
  private int length;
  private final FieldIndex fields = new FieldIndex();
  private int hostCount;

  private Http2RequestHead() {}

  /**
   * The request head of a request's HEADERS.
   *
   * @param endStream the HEADERS ended the stream: the request has no body
   * @throws IllegalArgumentException for a request HTTP/1 cannot carry
   */
  static ClientRequest of(Http2Headers headers, boolean endStream) {
    return new Http2RequestHead().build(headers, endStream);
  }

  private ClientRequest build(Http2Headers headers, boolean endStream) {
    CharSequence method = headers.method();
    if (method == null || method.length() == 0) {
      throw new IllegalArgumentException(":method missing");
    }
    boolean connect = HttpMethod.CONNECT.asciiName().contentEqualsIgnoreCase(method);
    CharSequence authority = headers.authority();
    CharSequence target = connect ? authority : headers.path();
    if (target == null || target.length() == 0) {
      throw new IllegalArgumentException((connect ? ":authority" : ":path") + " missing");
    }
    for (int i = 0; i < method.length(); i++) {
      char c = method.charAt(i);
      if (c > 0xff || !HeadParser.TCHAR[c]) {
        throw new IllegalArgumentException("method is not a token (RFC 9110 §9.1)");
      }
    }
    append(method);
    int methodEnd = length;
    append(' ');
    int targetStart = length;
    for (int i = 0; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c <= 0x20 || c >= 0x7f) {
        throw new IllegalArgumentException("request target with a byte outside VCHAR (RFC 9112 §3.2)");
      }
    }
    append(target);
    int targetEnd = length;
    append(HTTP_1_1_CRLF);
    if (authority != null) {
      field(HOST, authority);
      hostCount++;
    }
    for (Map.Entry<CharSequence, CharSequence> entry : headers) {
      CharSequence name = entry.getKey();
      if (name.length() > 0 && name.charAt(0) == ':') {
        continue; // pseudo-headers: read above
      }
      CharSequence value = entry.getValue();
      switch (name.length()) {
        case 4:
          if (AsciiString.contentEqualsIgnoreCase(name, "host")) {
            if (authority != null) {
              if (!AsciiString.contentEqualsIgnoreCase(authority, value)) {
                throw new IllegalArgumentException("host disagrees with :authority (RFC 9113 §8.3.1)");
              }
              continue; // the same as :authority, already written
            }
            hostCount++;
          }
          break;
        case 6:
          if (AsciiString.contentEqualsIgnoreCase(name, "cookie")) {
            // §8.2.3: several cookie fields are joined with "; " for an HTTP/1.1 hop; written last.
            cookie(value);
            continue;
          }
          break;
        case 7:
          if (AsciiString.contentEqualsIgnoreCase(name, "trailer")) {
            continue;
          }
          if (AsciiString.contentEqualsIgnoreCase(name, "upgrade")) {
            throw connectionSpecific(name);
          }
          break;
        case 10:
          if (AsciiString.contentEqualsIgnoreCase(name, "connection") || AsciiString.contentEqualsIgnoreCase(name, "keep-alive")) {
            throw connectionSpecific(name);
          }
          break;
        case 14:
          if (AsciiString.contentEqualsIgnoreCase(name, "content-length")) {
            fields.contentLength(value);
          }
          break;
        case 16:
          if (AsciiString.contentEqualsIgnoreCase(name, "proxy-connection")) {
            throw connectionSpecific(name);
          }
          break;
        case 17:
          if (AsciiString.contentEqualsIgnoreCase(name, "transfer-encoding")) {
            throw connectionSpecific(name);
          }
          break;
        default:
      }
      if (isConversionField(name)) {
        continue;
      }
      field(name, value);
    }
    if (cookieBytes != null) {
      field(COOKIE, new AsciiString(cookieBytes, 0, cookieLength, false));
    }
    // A CONNECT's DATA are the tunnel's bytes, not a body (§8.5): nothing to frame for an HTTP/1.1 hop.
    boolean chunked = !endStream && fields.contentLength() == HttpHead.NO_LENGTH && !connect;
    if (chunked) {
      int start = length;
      append(CHUNKED);
      fields.add(a, start, start + 17, start + 19, length - 2);
    }
    append('\r');
    append('\n');
    HttpHead head = new HttpHead(true, 0, length, new int[] {0, methodEnd, targetStart, targetEnd}, 1, 1, 0,
        fields.offsets(), fields.count(), fields.contentLength(), chunked, chunked, chunked, false,
        0, hostCount, fields.fieldsPresent());
    String uri = new String(a, targetStart, targetEnd - targetStart, StandardCharsets.ISO_8859_1);
    ClientRequest request = new ClientRequest(head, Unpooled.wrappedBuffer(a, 0, length),
        RequestDecoder.method(a, 0, methodEnd), uri, HttpVersion.HTTP_1_1);
    CharSequence scheme = headers.scheme();
    if (scheme != null) {
      request.http2Scheme(scheme.toString());
    }
    return request;
  }

  private static IllegalArgumentException connectionSpecific(CharSequence name) {
    return new IllegalArgumentException("connection-specific field " + name + " (RFC 9113 §8.2.2)");
  }

  /** The {@code x-http2-*} names Netty's conversion uses for this hop: never taken from a client. */
  private static boolean isConversionField(CharSequence name) {
    return name.length() > 7 && AsciiString.regionMatches(name, true, 0, "x-http2-", 0, 8);
  }

  /** {@code name: value CRLF}, indexed; refuses a value HTTP/1 cannot carry. */
  private void field(Object name, CharSequence value) {
    int nameStart = length;
    if (name instanceof byte[] bytes) {
      append(bytes);
    } else {
      append((CharSequence) name);
    }
    int nameEnd = length;
    FieldIndex.checkName(a, nameStart, nameEnd);
    append(':');
    append(' ');
    int valueStart = length;
    append(value);
    int valueEnd = value(valueStart, length);
    append('\r');
    append('\n');
    fields.add(a, nameStart, nameEnd, valueStart, valueEnd);
  }

  /**
   * RFC 9110 §5.5: no control byte but HTAB, no DEL; and no leading whitespace (the rule of the
   * header objects this replaces: a leading SP would be read as OWS by the next hop and lost).
   * Returns the value's end without trailing OWS, as the parser indexes it.
   */
  private int value(int from, int to) {
    if (from < to && (a[from] & 0xff) < 0x21) {
      throw new IllegalArgumentException("field value starts with whitespace or a control byte");
    }
    FieldIndex.checkValue(a, from, to);
    int end = to;
    while (end > from && (a[end - 1] == ' ' || a[end - 1] == '\t')) {
      end--;
    }
    return end;
  }

  /** The joined cookie value so far, held apart from the head until every other field is written. */
  private byte[] cookieBytes;
  private int cookieLength;

  private void cookie(CharSequence value) {
    if (cookieBytes == null) {
      cookieBytes = new byte[Math.max(64, value.length() + 16)];
    } else {
      cookieBytes = ensure(cookieBytes, cookieLength + value.length() + 2);
      cookieBytes[cookieLength++] = ';';
      cookieBytes[cookieLength++] = ' ';
    }
    cookieBytes = ensure(cookieBytes, cookieLength + value.length());
    cookieLength = FieldIndex.copy(value, cookieBytes, cookieLength);
  }

  private void append(char c) {
    a = ensure(a, length + 1);
    a[length++] = (byte) c;
  }

  private void append(byte[] bytes) {
    a = ensure(a, length + bytes.length);
    System.arraycopy(bytes, 0, a, length, bytes.length);
    length += bytes.length;
  }

  private void append(CharSequence s) {
    a = ensure(a, length + s.length());
    length = FieldIndex.copy(s, a, length);
  }

  private static byte[] ensure(byte[] array, int size) {
    return size <= array.length ? array : Arrays.copyOf(array, Math.max(size, array.length * 2));
  }
}
