package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;

/**
 * A response head read by {@link UpstreamCodec}: an {@code HttpResponse} like any other, so every
 * reader of headers keeps working, but its fields stay bytes (a copy of the head, indexed by its
 * {@link HttpHead}) until someone asks for {@link #headers()}. The relay decides the client's
 * framing from the head's facts ({@link #hopByHopFlags()}) and, when nothing needs to see or edit
 * the fields, records its additions with {@link #forwardByRanges}; {@link ServerCodec} then writes the
 * head to the client by copying ranges ({@link #writeHead}) instead of encoding header objects. Once
 * {@link #headers()} was called, the headers are the message and it is encoded as any other.
 *
 * <p>The head is a heap copy, not a slice of the received buffer: nothing to release on any path
 * (retry, abort, client gone, 101). A response whose whole body came in the same read as its head
 * is an {@link UpstreamFullResponse}, which holds that body too. Event-loop confined: plain fields.
 */
public class UpstreamResponse extends DefaultHttpResponse {
  /** {@code Transfer-Encoding: chunked} is added: the proxy chunks the body for the client. */
  public static final int ADD_CHUNKED = 1;
  /** {@code Connection: close} is added. */
  public static final int ADD_CLOSE = 1 << 1;
  /** {@code Connection: keep-alive} is added (an HTTP/1.0 client keeps its connection). */
  public static final int ADD_KEEP_ALIVE = 1 << 2;
  /** {@code Via} is added (RFC 9110 §7.6.3). */
  public static final int ADD_VIA = 1 << 3;
  /** {@code Date} is added: the upstream sent none (RFC 9110 §6.6.1). */
  public static final int ADD_DATE = 1 << 4;

  private static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);
  private static final int NOT_FORWARDED = -1;

  private final HttpHead head;
  /** The head's bytes, at the head's offsets (reader index 0). */
  private final ByteBuf bytes;
  /** Materialized on first use; from then on they are the message. */
  private HttpHeaders headers;
  /** The {@code ADD_*} set once the head goes to the client by ranges, else {@link #NOT_FORWARDED}. */
  private int additions = NOT_FORWARDED;

  /** @param bytes the head's bytes from its first, exactly {@code head.length()} of them */
  UpstreamResponse(HttpHead head, byte[] bytes) {
    super(head.minorVersion() == 0 ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1, status(bytes, head),
        EmptyHttpHeaders.INSTANCE);
    this.head = head;
    this.bytes = Unpooled.wrappedBuffer(bytes);
  }

  /**
   * The fields: as the upstream sent them, or, once {@link #forwardByRanges forwarded}, as the
   * client gets them (hop-by-hop fields removed, the proxy's added).
   */
  @Override
  public HttpHeaders headers() {
    if (headers == null) {
      headers = HEADERS.newHeaders();
      for (int i = 0; i < head.fieldCount(); i++) {
        headers.add(name(i), value(i));
      }
      if (additions != NOT_FORWARDED) {
        HopByHop.strip(headers);
        addTo(headers, additions, head.minorVersion() == 0 ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1);
      }
    }
    return headers;
  }

  /** The {@link HopByHop#scan} flags of the fields as the upstream sent them, read from the head. */
  public int hopByHopFlags() {
    if (headers != null || (head.hasTransferEncoding() && !head.onlyChunked())) {
      return HopByHop.scan(headers()); // a coding list: rare, and never written by ranges
    }
    return HopByHop.scan(head);
  }

  /**
   * Whether the body carries a transfer coding other than {@code chunked} ({@code gzip, chunked},
   * or {@code gzip} read until close). The proxy decodes none, and {@code Transfer-Encoding} is a
   * property of this hop: relayed, the body would reach the client still coded with nothing saying
   * so (HTTP/2 has no transfer codings at all). Such a response is refused, as nginx refuses it.
   * The parser read the list ({@link HttpHead#hasOtherCodings}).
   */
  public boolean codedBeyondChunked() {
    return head.hasOtherCodings();
  }

  /**
   * Sends the head to the client as the upstream's bytes: the status line with version HTTP/1.1,
   * every field but the hop-by-hop ones and {@code Transfer-Encoding} (the relay frames the body
   * again), then {@code additions}: the same message {@link #addTo} gives as header objects.
   *
   * @return false, changing nothing, when the head cannot go by ranges: its headers were already
   *     materialized (someone reads or edits them), a transfer coding other than exactly
   *     {@code chunked}, a 204 or 205 (whose framing fields the encoder rewrites), or a {@code Via}
   *     to append to
   */
  public boolean forwardByRanges(int additions) {
    int code = status().code();
    if (headers != null || (head.hasTransferEncoding() && !head.onlyChunked()) || code == 204 || code == 205
        || ((additions & ADD_VIA) != 0 && head.hasVia())) {
      return false;
    }
    this.additions = additions;
    setProtocolVersion(HttpVersion.HTTP_1_1);
    return true;
  }

  /** Whether {@link ServerCodec} writes this head by ranges: forwarded, and its headers never asked for. */
  boolean writesByRanges() {
    return additions != NOT_FORWARDED && headers == null;
  }

  /** The head as the upstream sent it; its bytes are {@link #headBytes()}. */
  HttpHead head() {
    return head;
  }

  /** The head's bytes, at its offsets (a heap copy of its own: never released, never reused). */
  ByteBuf headBytes() {
    return bytes;
  }

  /** The {@code ADD_*} fields the proxy adds, once forwarded by ranges. */
  int additions() {
    return additions;
  }

  /** Whether the client's body is chunked by the proxy. */
  boolean chunkedForClient() {
    return (additions & ADD_CHUNKED) != 0;
  }

  /** The head's length as received: what the written head is close to. */
  int receivedLength() {
    return head.length();
  }

  /** Writes the head for the client ({@link #forwardByRanges}), through its empty last line. */
  void writeHead(ByteBuf dst) {
    HeadWriter.writeResponse(head, bytes, dst);
    if ((additions & ADD_CHUNKED) != 0) {
      dst.writeBytes(TRANSFER_ENCODING_CHUNKED);
    }
    if ((additions & ADD_CLOSE) != 0) {
      dst.writeBytes(CONNECTION_CLOSE);
    } else if ((additions & ADD_KEEP_ALIVE) != 0) {
      dst.writeBytes(CONNECTION_KEEP_ALIVE);
    }
    if ((additions & ADD_VIA) != 0) {
      dst.writeBytes(head.minorVersion() == 0 ? VIA_HTTP10 : VIA);
    }
    if ((additions & ADD_DATE) != 0) {
      dst.writeBytes(HttpDate.now().line());
    }
    dst.writeShort(('\r' << 8) | '\n');
  }

  // The same names and values as addTo writes through Netty's encoder (lower-case names).
  private static final byte[] TRANSFER_ENCODING_CHUNKED = line(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
  private static final byte[] CONNECTION_CLOSE = line(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
  private static final byte[] CONNECTION_KEEP_ALIVE = line(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
  private static final byte[] VIA = line(HttpHeaderNames.VIA, ClientIdentity.VIA_VALUE);
  private static final byte[] VIA_HTTP10 = line(HttpHeaderNames.VIA, ClientIdentity.VIA_VALUE_HTTP10);

  private static byte[] line(CharSequence name, CharSequence value) {
    return (name + ": " + value + "\r\n").getBytes(StandardCharsets.US_ASCII);
  }

  /**
   * Adds the proxy's fields ({@code ADD_*}) to headers already stripped of hop-by-hop fields;
   * {@code received}: the response's version from the upstream, which {@code Via} names.
   */
  public static void addTo(HttpHeaders headers, int additions, HttpVersion received) {
    if ((additions & ADD_CHUNKED) != 0) {
      headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    if ((additions & ADD_CLOSE) != 0) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if ((additions & ADD_KEEP_ALIVE) != 0) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    if ((additions & ADD_VIA) != 0) {
      ClientIdentity.addVia(headers, ClientIdentity.via(received, false));
    }
    if ((additions & ADD_DATE) != 0) {
      headers.set(HttpHeaderNames.DATE, HttpDate.now().value());
    }
  }

  /** Whether the upstream sent a {@code Date} field. */
  public boolean hasDate() {
    return headers != null ? headers.contains(HttpHeaderNames.DATE) : head.hasDate();
  }

  private String value(int field) {
    return head.value(bytes, field);
  }

  /** Well-known field names as shared constants, so most heads allocate no name. */
  private static final AsciiString[] KNOWN = {
    AsciiString.cached("Content-Length"), AsciiString.cached("Content-Type"), AsciiString.cached("Date"),
    AsciiString.cached("Server"), AsciiString.cached("Connection"), AsciiString.cached("Transfer-Encoding"),
    AsciiString.cached("Last-Modified"), AsciiString.cached("ETag"), AsciiString.cached("Accept-Ranges"),
    AsciiString.cached("Cache-Control"), AsciiString.cached("Keep-Alive"), AsciiString.cached("Vary"),
  };

  private CharSequence name(int field) {
    int from = head.nameStart(field);
    int length = head.nameEnd(field) - from;
    byte[] a = bytes.array();
    for (AsciiString known : KNOWN) {
      if (known.length() == length && sameBytes(a, from, known)) {
        return known;
      }
    }
    return new AsciiString(a, from, length, true);
  }

  /** The status, shared when the reason phrase is the standard one (as it nearly always is). */
  private static HttpResponseStatus status(byte[] bytes, HttpHead head) {
    HttpResponseStatus standard = HttpResponseStatus.valueOf(head.status());
    String reason = standard.reasonPhrase();
    int from = head.reasonStart();
    int length = head.reasonEnd() - from;
    if (reason.length() == length && sameBytes(bytes, from, reason)) {
      return standard;
    }
    return HttpResponseStatus.valueOf(head.status(), new String(bytes, from, length, StandardCharsets.ISO_8859_1));
  }

  /** Exact bytes: a name in another case is kept as sent. */
  static boolean sameBytes(byte[] bytes, int from, CharSequence known) {
    for (int i = 0; i < known.length(); i++) {
      if (bytes[from + i] != known.charAt(i)) {
        return false;
      }
    }
    return true;
  }
}
