package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.ReadOnlyHttp2Headers;
import io.netty.util.AsciiString;
import java.util.Arrays;

/**
 * An upstream's response head as the HTTP/2 fields of the client's HEADERS, read straight from the
 * head's bytes ({@link UpstreamResponse} forwarded by ranges): the message the client would get over
 * HTTP/1.1 ({@link HeadWriter#writeResponse} and the proxy's additions), without its
 * connection-specific fields (RFC 9113 §8.2.2: the hop-by-hop ones, {@code Transfer-Encoding},
 * {@code Connection}) and without {@code Host}, names in lower case (§8.2). No header objects are
 * built for the HTTP/1 side: values are views of the head's bytes (a heap copy the response owns and
 * nobody releases or reuses), common names shared constants. Stateless.
 *
 * <p>The fields go out as Netty's {@link ReadOnlyHttp2Headers}: one array of name/value pairs that
 * the HPACK encoder walks, where {@code DefaultHttp2Headers} would hash every field into its buckets
 * and allocate an entry for each, only for the encoder to iterate them once.
 */
final class Http2ResponseHead {
  /** Common response field names in lower case, shared: no copy, and their hash codes stay computed. */
  private static final AsciiString[] KNOWN = {
    AsciiString.cached("content-length"), AsciiString.cached("content-type"), AsciiString.cached("date"),
    AsciiString.cached("server"), AsciiString.cached("last-modified"), AsciiString.cached("etag"),
    AsciiString.cached("accept-ranges"), AsciiString.cached("cache-control"), AsciiString.cached("vary"),
    AsciiString.cached("expires"), AsciiString.cached("location"), AsciiString.cached("set-cookie"),
    AsciiString.cached("content-encoding"),
  };
  private static final AsciiString VIA = AsciiString.cached("via");
  private static final AsciiString DATE = AsciiString.cached("date");
  /** The received protocol (RFC 9110 §7.6.3) of a response is the upstream's: HTTP/1.1 or 1.0. */
  private static final AsciiString VIA_VALUE = AsciiString.cached(ClientIdentity.VIA_VALUE);
  private static final AsciiString VIA_VALUE_HTTP10 = AsciiString.cached(ClientIdentity.VIA_VALUE_HTTP10);

  private Http2ResponseHead() {}

  static Http2Headers of(UpstreamResponse response) {
    HttpHead head = response.head();
    ByteBuf buf = response.headBytes();
    byte[] a = buf.array();
    AsciiString[] fields = new AsciiString[2 * (head.fieldCount() + 2)];
    int n = 0;
    for (int i = 0; i < head.fieldCount(); i++) {
      int from = head.nameStart(i);
      int length = head.nameEnd(i) - from;
      if (HeadWriter.hopByHop(head, buf, i) || notInHttp2(head, buf, i, length)) {
        continue;
      }
      fields[n++] = name(a, from, length);
      fields[n++] = new AsciiString(a, head.valueStart(i), head.valueEnd(i) - head.valueStart(i), false);
    }
    // The proxy's additions: chunked framing and Connection have no place in HTTP/2 (§8.2.2).
    if ((response.additions() & UpstreamResponse.ADD_VIA) != 0) {
      fields[n++] = VIA;
      fields[n++] = head.minorVersion() == 0 ? VIA_VALUE_HTTP10 : VIA_VALUE;
    }
    if ((response.additions() & UpstreamResponse.ADD_DATE) != 0) {
      fields[n++] = DATE;
      fields[n++] = HttpDate.now().value();
    }
    // The array is the headers' own (no copy is made of it): exactly its pairs, nothing after.
    return ReadOnlyHttp2Headers.serverHeaders(false, response.status().codeAsText(),
        n == fields.length ? fields : Arrays.copyOf(fields, n));
  }

  /** {@code Transfer-Encoding} and {@code Host} (§8.2.2, §8.3.1), and the {@code x-http2-*} names of a conversion. */
  private static boolean notInHttp2(HttpHead head, ByteBuf buf, int field, int length) {
    return (length == 17 && head.nameIs(buf, field, "transfer-encoding")) || (length == 4 && head.nameIs(buf, field, "host"))
        || (length > 7 && HeadParser.equalsLowerCase(buf, head.nameStart(field), 8, "x-http2-"));
  }

  private static AsciiString name(byte[] a, int from, int length) {
    boolean lower = true;
    for (int i = from; i < from + length; i++) {
      if (a[i] >= 'A' && a[i] <= 'Z') {
        lower = false;
        break;
      }
    }
    for (AsciiString known : KNOWN) {
      if (known.length() == length && HeadParser.equalsLowerCase(a, from, length, known.toString())) {
        return known;
      }
    }
    AsciiString name = new AsciiString(a, from, length, false);
    return lower ? name : name.toLowerCase();
  }
}
