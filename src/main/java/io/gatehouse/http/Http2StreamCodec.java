package io.gatehouse.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * An HTTP/2 stream's frames as the HTTP/1 objects the proxy handler reads, and back: what each
 * stream of a client connection's stream table ({@code relay.Http2StreamSide}) converts with. It
 * makes each request look like what the HTTP/1.1 decoder produces, so the proxy handler needs no
 * second code path:
 *
 * <ul>
 *   <li>the request HEADERS become the request head straight away, as the bytes of the HTTP/1.1 head
 *       an upstream gets ({@link Http2RequestHead}: RFC 9113 §8.3.1 {@code :method}, {@code :path},
 *       or {@code :authority} as the target of a CONNECT, §8.5; {@code :authority} as {@code Host},
 *       a {@code host} field that disagrees with it is malformed; the {@code cookie} fields joined
 *       into one, §8.2.3): the same {@link ClientRequest} the HTTP/1 decoder makes, so the request
 *       goes upstream by ranges and no header objects are built for it;
 *   <li>a body without {@code content-length} (legal in HTTP/2, §8.1) is marked chunked, which is
 *       how it will be framed to an HTTP/1.1 upstream; trailers become the last content's fields.
 * </ul>
 *
 * <p>Responses go out as HEADERS and DATA; an informational (1xx) response never ends the stream
 * (§8.1). No intermediate full request, no {@code x-http2-*} fields added and removed, no look-up of
 * the connection's TLS handler for each stream (the scheme it would fill in is a request's, and
 * this side only writes responses). A request that cannot be converted (a value the HTTP/1 field
 * rules refuse, a {@code host} that contradicts {@code :authority}) throws: it is malformed
 * (§8.1.1), and its stream is reset with PROTOCOL_ERROR.
 */
public final class Http2StreamCodec {
  /** Fields HTTP/2 has no place for (§8.2.2, and Host, which {@code :authority} replaces in a request). */
  private static final Set<AsciiString> NOT_IN_HTTP2 = Set.of(
      HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.PROXY_CONNECTION, HttpHeaderNames.TRANSFER_ENCODING,
      HttpHeaderNames.UPGRADE, HttpHeaderNames.HOST);

  private Http2StreamCodec() {}

  /**
   * A second HEADERS of a request, its trailers (the frame codec lets them through only with
   * END_STREAM and without pseudo-headers, §8.1), as the request's last content; throws when a
   * field is one the HTTP/1 rules refuse.
   */
  public static LastHttpContent trailers(Http2Headers headers) {
    LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
    copyFields(headers, last.trailingHeaders());
    TrailerFields.strip(last.trailingHeaders());
    return last;
  }

  /**
   * Copies the trailer fields. The frame codec already refused connection-specific fields and
   * pseudo-headers in trailers (§8.1, §8.2.2); the HTTP/1 headers check names and values again.
   */
  private static void copyFields(Http2Headers from, HttpHeaders to) {
    StringBuilder cookies = null;
    for (Map.Entry<CharSequence, CharSequence> field : from) {
      CharSequence name = field.getKey();
      if (name.length() > 0 && name.charAt(0) == ':') {
        continue; // the frame codec refuses pseudo-headers in trailers (§8.1)
      }
      CharSequence value = field.getValue();
      if (HttpHeaderNames.COOKIE.contentEquals(name)) {
        // §8.2.3: several cookie fields are joined with "; " for an HTTP/1.1 hop.
        cookies = cookies == null ? new StringBuilder(value) : cookies.append("; ").append(value);
      } else if (!HttpHeaderNames.TRANSFER_ENCODING.contentEquals(name) && !HttpHeaderNames.TRAILER.contentEquals(name)
          && !isConversionField(name)) {
        to.add(name, value);
      }
    }
    if (cookies != null) {
      to.add(HttpHeaderNames.COOKIE, cookies.toString());
    }
  }

  /** The {@code x-http2-*} names Netty's conversion uses for this hop: never taken from a client. */
  private static boolean isConversionField(CharSequence name) {
    return name.length() > 7 && AsciiString.regionMatches(name, true, 0, "x-http2-", 0, 8);
  }

  /** Where the frames of a response go: the connection's, with the stream set. */
  public interface FrameSink {
    void write(io.netty.handler.codec.http2.Http2StreamFrame frame, ChannelPromise promise);

    ChannelPromise voidPromise();
  }

  /** A request's HEADERS as the request the proxy handler reads (see the class comment); throws when malformed. */
  public static ClientRequest request(Http2Headers headers, boolean endStream) {
    return Http2RequestHead.of(headers, endStream);
  }

  /** Writes {@code msg} (a response head, a part of its body, its end) as the stream's frames to {@code out}. */
  public static void encode(Object msg, ChannelPromise promise, FrameSink out) {
    if (msg instanceof HttpResponse response) {
      writeResponse(out, response, promise);
    } else if (msg instanceof LastHttpContent last) {
      writeLast(out, last, true, promise);
    } else if (msg instanceof HttpContent content) {
      out.write(new DefaultHttp2DataFrame(content.content(), false), promise);
    } else {
      ReferenceCountUtil.release(msg);
      promise.tryFailure(new IllegalArgumentException("not an HTTP message: " + msg));
    }
  }

  private static void writeResponse(FrameSink ctx, HttpResponse response, ChannelPromise promise) {
    Http2Headers headers;
    try {
      headers = responseHeaders(response);
    } catch (RuntimeException e) {
      ReferenceCountUtil.release(response);
      promise.setFailure(e);
      return;
    }
    if (response.status().codeClass() == io.netty.handler.codec.http.HttpStatusClass.INFORMATIONAL) {
      ReferenceCountUtil.release(response); // §8.1: 1xx is a HEADERS without END_STREAM, no content
      ctx.write(new DefaultHttp2HeadersFrame(headers, false), promise);
      return;
    }
    if (!(response instanceof FullHttpMessage full)) {
      ctx.write(new DefaultHttp2HeadersFrame(headers, false), promise);
      return;
    }
    if (!full.content().isReadable() && full.trailingHeaders().isEmpty()) {
      full.release();
      ctx.write(new DefaultHttp2HeadersFrame(headers, true), promise);
      return;
    }
    ctx.write(new DefaultHttp2HeadersFrame(headers, false), ctx.voidPromise());
    writeLast(ctx, full, false, promise);
  }

  /**
   * A response head as HTTP/2 fields: lowercase names (§8.2), without the connection-specific
   * fields (§8.2.2). The relay already removed the hop-by-hop fields of an upstream's response
   * (RFC 9110 §7.6.1), so the usual head is copied as it is; one that still has {@code Connection}
   * (whose listed names must go too) or {@code te} takes Netty's general conversion.
   */
  static Http2Headers responseHeaders(HttpResponse response) {
    if (response instanceof UpstreamResponse upstream && upstream.writesByRanges()) {
      return Http2ResponseHead.of(upstream);
    }
    HttpHeaders in = response.headers();
    if (in.contains(HttpHeaderNames.CONNECTION) || in.contains(HttpHeaderNames.TE)) {
      return HttpConversionUtil.toHttp2Headers(response, true);
    }
    Http2Headers out = new DefaultHttp2Headers(true, in.size() + 1);
    out.status(response.status().codeAsText());
    for (Iterator<Map.Entry<CharSequence, CharSequence>> it = in.iteratorCharSequence(); it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> field = it.next();
      AsciiString name = AsciiString.of(field.getKey()).toLowerCase();
      if (!NOT_IN_HTTP2.contains(name) && !isConversionField(name)) {
        out.add(name, field.getValue());
      }
    }
    return out;
  }

  /**
   * The end of a response: its DATA (END_STREAM unless trailers follow), then its trailers. An
   * empty last part without trailers still ends the stream, with an empty DATA.
   */
  private static void writeLast(FrameSink ctx, LastHttpContent last, boolean filler, ChannelPromise promise) {
    HttpHeaders trailers = last.trailingHeaders();
    boolean hasTrailers = !trailers.isEmpty();
    if (last.content().isReadable() || (filler && !hasTrailers)) {
      ctx.write(new DefaultHttp2DataFrame(last.content(), !hasTrailers), hasTrailers ? ctx.voidPromise() : promise);
    } else {
      last.release();
    }
    if (hasTrailers) {
      ctx.write(new DefaultHttp2HeadersFrame(HttpConversionUtil.toHttp2Headers(trailers, true), true), promise);
    }
  }
}
