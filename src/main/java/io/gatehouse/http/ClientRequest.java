package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;

/**
 * A request head read from a client by {@link RequestDecoder}: an {@code HttpRequest} like any
 * other, so every reader of headers keeps working, but its fields stay the received bytes (a copy of
 * the head, indexed by its {@link HttpHead}) until someone asks for {@link #headers()}. The request
 * path reads and edits it through {@link MessageFields} ({@link #get}, {@link #set},
 * {@link #remove}); the edits are recorded, and the upstream codec writes the head by copying the
 * fields that stay and appending the edited ones ({@link #writeHead}), with no header objects. Once
 * {@link #headers()} was called, the headers (with every edit applied) are the message, and it is
 * encoded as any other.
 *
 * <p>The client's hop-by-hop fields (RFC 9110 §7.6.1: the fixed ones, {@code Transfer-Encoding},
 * which the relay sets again, and those its {@code Connection} names, never {@code Content-Length}
 * or {@code Host}) are not part of the message from the start: no view shows them, and a field the
 * proxy sets is never dropped because the client's {@code Connection} names it (which would let a
 * client strip the proxy's {@code X-Forwarded-For}). What they said is read from the head's facts
 * ({@link #hopByHopFlags}, {@link #received}).
 *
 * <p>The head is a heap copy, not a slice of the received buffer: nothing to release on any path,
 * and the same head can be written again to another upstream (a retry). Event-loop confined.
 */
public final class ClientRequest extends DefaultHttpRequest implements MessageFields {
  private static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);
  private static final byte[] HTTP_1_1_CRLF = " HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII);

  private final HttpHead head;
  /** The head's bytes, at the head's offsets (reader index 0). */
  private final ByteBuf bytes;
  /** Materialized on first use; from then on they are the message. */
  private HttpHeaders headers;
  /** Edited fields in order: lower-case name, then the value (null: removed). */
  private ArrayList<Object> edits;
  /** An HTTP/2 request's {@code :scheme} (RFC 9113 §8.3.1); null for HTTP/1 and for CONNECT. */
  private String http2Scheme;
  /**
   * The received {@code Host} value once read (null: none): the checks, the routing, the log and the
   * forwarded fields each ask for it, and the head it is read from never changes.
   */
  private String receivedHost;
  private boolean hostRead;

  ClientRequest(HttpHead head, ByteBuf bytes, HttpMethod method, String uri, HttpVersion version) {
    super(version, method, uri, EmptyHttpHeaders.INSTANCE);
    this.head = head;
    this.bytes = bytes;
  }

  /**
   * An HTTP/2 request's {@code :scheme}: with {@code :authority} ({@code Host}) and {@code :path}
   * (the URI) it is the target a forward proxy needs, which HTTP/2 never sends in absolute-form
   * (RFC 9113 §8.3.1). Null for an HTTP/1 request and a CONNECT (§8.5).
   */
  public String http2Scheme() {
    return http2Scheme;
  }

  void http2Scheme(String scheme) {
    this.http2Scheme = scheme;
  }

  /** The facts read while parsing (framing, Host count), as received. */
  public HttpHead head() {
    return head;
  }

  /** The fields as received, then the edits; from now on the message is these header objects. */
  @Override
  public HttpHeaders headers() {
    if (headers == null) {
      HttpHeaders h = HEADERS.newHeaders();
      for (int i = 0; i < head.fieldCount(); i++) {
        if (!dropped(i)) {
          h.add(new AsciiString(bytes.array(), head.nameStart(i), head.nameEnd(i) - head.nameStart(i), true),
              head.value(bytes, i));
        }
      }
      if (edits != null) {
        for (int e = 0; e < edits.size(); e += 2) {
          AsciiString name = (AsciiString) edits.get(e);
          if (edits.get(e + 1) == null) {
            h.remove(name);
          } else {
            h.set(name, (CharSequence) edits.get(e + 1));
          }
        }
      }
      headers = h;
    }
    return headers;
  }

  /** Whether the head is still bytes: {@link #headers()} was never called, so it goes upstream by ranges. */
  public boolean writesByRanges() {
    return headers == null;
  }

  @Override
  public String get(AsciiString name) {
    if (headers != null) {
      return headers.get(name);
    }
    if (edits != null) {
      for (int e = edits.size() - 2; e >= 0; e -= 2) {
        if (name.contentEquals((CharSequence) edits.get(e))) {
          Object value = edits.get(e + 1);
          return value == null ? null : value.toString();
        }
      }
    }
    if (name == HttpHeaderNames.HOST) {
      if (!hostRead) {
        receivedHost = receivedValue(name);
        hostRead = true;
      }
      return receivedHost;
    }
    return receivedValue(name);
  }

  /** The first value of {@code name} among the received fields this request forwards. */
  private String receivedValue(AsciiString name) {
    for (int i = 0; i < head.fieldCount(); i++) {
      if (head.nameEnd(i) - head.nameStart(i) == name.length() && head.nameIs(bytes, i, name.toString())
          && !dropped(i)) {
        return head.value(bytes, i);
      }
    }
    return null;
  }

  @Override
  public java.util.List<String> getAll(AsciiString name) {
    if (headers != null) {
      return headers.getAll(name);
    }
    if (edits != null) {
      for (int e = edits.size() - 2; e >= 0; e -= 2) {
        if (name.contentEquals((CharSequence) edits.get(e))) {
          Object value = edits.get(e + 1);
          return value == null ? java.util.List.of() : java.util.List.of(value.toString());
        }
      }
    }
    java.util.List<String> values = new ArrayList<>(2);
    for (int i = 0; i < head.fieldCount(); i++) {
      if (head.nameEnd(i) - head.nameStart(i) == name.length() && head.nameIs(bytes, i, name.toString())
          && !dropped(i)) {
        values.add(head.value(bytes, i));
      }
    }
    return values;
  }

  @Override
  public void set(AsciiString name, CharSequence value) {
    if (headers != null) {
      headers.set(name, value);
    } else {
      edit(name, value.toString());
    }
  }

  @Override
  public void remove(AsciiString name) {
    if (headers != null) {
      headers.remove(name);
    } else {
      edit(name, null);
    }
  }

  private void edit(AsciiString name, String value) {
    if (edits == null) {
      edits = new ArrayList<>(8);
    }
    edits.add(name);
    edits.add(value);
  }

  /**
   * The {@link HopByHop#scan} flags of the fields as received, read from the head. Exact for every
   * request {@link RequestChecks} lets through (a transfer-coding list other than {@code chunked}
   * is refused before).
   */
  public int hopByHopFlags() {
    return HopByHop.scan(head);
  }

  /** The first value of field {@code name} (lower case) as received, hop-by-hop or not, before any edit. */
  public String received(AsciiString name) {
    for (int i = 0; i < head.fieldCount(); i++) {
      if (head.nameEnd(i) - head.nameStart(i) == name.length() && head.nameIs(bytes, i, name.toString())) {
        return head.value(bytes, i);
      }
    }
    return null;
  }

  /** Whether the request asks for {@code 100-continue} (RFC 9110 §10.1.1; HTTP/1.1 only). */
  public boolean expectsContinue() {
    if (headers != null || !HttpVersion.HTTP_1_1.equals(protocolVersion())) {
      return headers != null && io.netty.handler.codec.http.HttpUtil.is100ContinueExpected(this);
    }
    for (int i = 0; i < head.fieldCount(); i++) {
      if (head.nameEnd(i) - head.nameStart(i) == 6 && head.nameIs(bytes, i, "expect")
          && head.valueEnd(i) - head.valueStart(i) == 12
          && HeadParser.equalsLowerCase(bytes, head.valueStart(i), 12, "100-continue")) {
        return true;
      }
    }
    return false;
  }

  /** The head's bytes, at its offsets. */
  ByteBuf headBytes() {
    return bytes;
  }

  /** The head's length as received: what the written head is close to. */
  int receivedLength() {
    return head.length();
  }

  /**
   * Writes the head for the upstream: {@code method SP target SP HTTP/1.1} (the target as the
   * proxy set it), every received field that is neither dropped nor edited, by range, then the
   * edited fields' last values, then the empty line.
   */
  void writeHead(ByteBuf dst) {
    dst.writeCharSequence(method().name(), StandardCharsets.US_ASCII);
    dst.writeByte(' ');
    dst.writeCharSequence(uri(), StandardCharsets.ISO_8859_1);
    dst.writeBytes(HTTP_1_1_CRLF);
    for (int i = 0; i < head.fieldCount(); i++) {
      if (dropped(i) || edited(i)) {
        continue;
      }
      int lineStart = head.nameStart(i);
      int lineEnd = i + 1 < head.fieldCount() ? head.nameStart(i + 1) : head.length() - 2;
      dst.writeBytes(bytes, lineStart, lineEnd - lineStart);
    }
    if (edits != null) {
      for (int e = 0; e < edits.size(); e += 2) {
        Object value = edits.get(e + 1);
        if (value != null && !editedLater(e)) {
          dst.writeCharSequence((CharSequence) edits.get(e), StandardCharsets.US_ASCII);
          dst.writeByte(':').writeByte(' ');
          dst.writeCharSequence((CharSequence) value, StandardCharsets.ISO_8859_1);
          dst.writeShort(('\r' << 8) | '\n');
        }
      }
    }
    dst.writeShort(('\r' << 8) | '\n');
  }

  /**
   * Adds the message's fields to an HTTP/2 request's header block, from the bytes: the received
   * fields that stay (hop-by-hop ones are never part of the message, which leaves out HTTP/2's
   * connection-specific fields, RFC 9113 §8.2.2), then each edited field's last value, names in
   * lower case (§8.2.1). {@code host} is left out ({@code :authority} carries it, §8.3.1), as are
   * edits that name a connection-specific field (the relay's {@code Transfer-Encoding} or
   * {@code Upgrade} for an HTTP/1.1 hop). No header objects: the bytes are copied into the values.
   */
  public void addHttp2Fields(Http2Headers out) {
    if (headers != null) {
      throw new IllegalStateException("the header objects are the message"); // the caller copies them
    }
    byte[] a = bytes.array();
    for (int i = 0; i < head.fieldCount(); i++) {
      int nameLength = head.nameEnd(i) - head.nameStart(i);
      if (dropped(i) || edited(i) || (nameLength == 4 && head.nameIs(bytes, i, "host"))) {
        continue;
      }
      byte[] name = new byte[nameLength];
      for (int k = 0, from = head.nameStart(i); k < nameLength; k++) {
        byte b = a[from + k];
        name[k] = b >= 'A' && b <= 'Z' ? (byte) (b + ('a' - 'A')) : b;
      }
      out.add(new AsciiString(name, false),
          new AsciiString(a, head.valueStart(i), head.valueEnd(i) - head.valueStart(i), true));
    }
    if (edits != null) {
      for (int e = 0; e < edits.size(); e += 2) {
        AsciiString name = (AsciiString) edits.get(e);
        Object value = edits.get(e + 1);
        if (value != null && !editedLater(e) && !HopByHop.isFixed(name) && !HttpHeaderNames.HOST.contentEquals(name)) {
          out.add(name, (CharSequence) value);
        }
      }
    }
  }

  /** Whether received field {@code field} is hop-by-hop, so not part of the message. */
  private boolean dropped(int field) {
    return HeadWriter.hopByHop(head, bytes, field)
        || (head.nameEnd(field) - head.nameStart(field) == 17 && head.nameIs(bytes, field, "transfer-encoding"));
  }

  private boolean edited(int field) {
    if (edits == null) {
      return false;
    }
    int length = head.nameEnd(field) - head.nameStart(field);
    for (int e = 0; e < edits.size(); e += 2) {
      CharSequence name = (CharSequence) edits.get(e);
      if (name.length() == length && head.nameIs(bytes, field, name.toString())) {
        return true;
      }
    }
    return false;
  }

  private boolean editedLater(int edit) {
    for (int e = edit + 2; e < edits.size(); e += 2) {
      if (((AsciiString) edits.get(e)).contentEquals((CharSequence) edits.get(edit))) {
        return true;
      }
    }
    return false;
  }
}
