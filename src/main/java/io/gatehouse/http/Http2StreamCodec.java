package io.gatehouse.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * On an HTTP/2 stream: the stream's frames in, the HTTP/1 objects the proxy handler reads out, and
 * back; one stateless instance for every stream of every connection. It makes each request look
 * like what the HTTP/1.1 decoder produces, so the proxy handler needs no second code path:
 *
 * <ul>
 *   <li>the request HEADERS become the request head straight away, as the bytes of the HTTP/1.1 head
 *       an upstream gets ({@link Http2RequestHead}: RFC 9113 §8.3.1 {@code :method}, {@code :path},
 *       or {@code :authority} as the target of a CONNECT, §8.5; {@code :authority} as {@code Host},
 *       a {@code host} field that disagrees with it is malformed; the {@code cookie} fields joined
 *       into one, §8.2.3): the same {@link ClientRequest} the HTTP/1 decoder makes, so the request
 *       goes upstream by ranges and no header objects are built for it;
 *   <li>a request that ends with its HEADERS is that head and an empty last content;
 *   <li>a body without {@code content-length} (legal in HTTP/2, §8.1) is marked chunked, which is
 *       how it will be framed to an HTTP/1.1 upstream; DATA become contents, trailers the last one.
 * </ul>
 *
 * <p>Responses go out as HEADERS and DATA; an informational (1xx) response never ends the stream
 * (§8.1). It replaces Netty's {@code Http2StreamFrameToHttpObjectCodec} and a second handler that
 * reshaped its output: no intermediate full request, no {@code x-http2-*} fields added and removed,
 * no per-stream instance and no look-up of the connection's TLS handler for each stream (the
 * scheme it would fill in is a request's, and this side only writes responses).
 *
 * <p>A request that cannot be converted (a value the HTTP/1 field rules refuse, a {@code host} that
 * contradicts {@code :authority}) is malformed (§8.1.1): its stream is reset with PROTOCOL_ERROR
 * and nothing reaches the proxy handler.
 *
 * <p>A CONNECT (RFC 9113 §8.5) hands the stream to {@link Http2TunnelCodec} as it is read: the DATA
 * frames that follow are a tunnel's bytes, not a body.
 *
 * <p>Pipeline of a stream: {@code http-codec (this) -> client-timeouts -> flow-control -> proxy}.
 */
@ChannelHandler.Sharable
public final class Http2StreamCodec extends ChannelDuplexHandler {
  private static final Logger log = LoggerFactory.getLogger(Http2StreamCodec.class);
  public static final Http2StreamCodec INSTANCE = new Http2StreamCodec();

  /** Fields HTTP/2 has no place for (§8.2.2, and Host, which {@code :authority} replaces in a request). */
  private static final Set<AsciiString> NOT_IN_HTTP2 = Set.of(
      HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.PROXY_CONNECTION, HttpHeaderNames.TRANSFER_ENCODING,
      HttpHeaderNames.UPGRADE, HttpHeaderNames.HOST);

  private Http2StreamCodec() {}

  /** {@code @Sharable}, as a constant: Netty asks at every add (a per-thread map look-up, ~1% per h2 stream). */
  @Override
  public boolean isSharable() {
    return true;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Http2HeadersFrame frame) {
      onHeaders(ctx, frame);
    } else if (msg instanceof Http2DataFrame data) {
      ctx.fireChannelRead(data.isEndStream()
          ? new DefaultLastHttpContent(data.content())
          : new DefaultHttpContent(data.content()));
    } else {
      ctx.fireChannelRead(msg);
    }
  }

  private static void onHeaders(ChannelHandlerContext ctx, Http2HeadersFrame frame) {
    Http2Headers headers = frame.headers();
    if (headers.method() == null) {
      // A second HEADERS: trailers, which the frame codec lets through only with END_STREAM and
      // without pseudo-headers (§8.1).
      LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
      try {
        copyFields(headers, last.trailingHeaders());
        TrailerFields.strip(last.trailingHeaders());
      } catch (RuntimeException e) {
        refuse(ctx, e);
        return;
      }
      ctx.fireChannelRead(last);
      return;
    }
    ClientRequest request;
    try {
      request = Http2RequestHead.of(headers, frame.isEndStream());
    } catch (RuntimeException e) {
      refuse(ctx, e);
      return;
    }
    if (HttpMethod.CONNECT.equals(request.method()) && request.head().contentLength() <= 0) {
      // RFC 9113 §8.5: every DATA frame after a CONNECT's HEADERS is the tunnel's, from the first.
      // (One that declares content, which a CONNECT has not, RFC 9110 §9.3.6, stays a request: 400.)
      ctx.pipeline().replace(ctx.handler(), PipelineNames.HTTP_CODEC, Http2TunnelCodec.INSTANCE);
      ctx.fireChannelRead(request);
      if (frame.isEndStream()) {
        Http2TunnelCodec.endOfInput(ctx);
      }
      return;
    }
    ctx.fireChannelRead(request);
    if (frame.isEndStream()) {
      ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
    }
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

  private static void refuse(ChannelHandlerContext ctx, RuntimeException e) {
    log.debug("{} malformed request on an HTTP/2 stream: {}", ctx.channel(), e.toString());
    ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.PROTOCOL_ERROR));
    ctx.close();
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof HttpResponse response) {
      writeResponse(ctx, response, promise);
    } else if (msg instanceof LastHttpContent last) {
      writeLast(ctx, last, true, promise);
    } else if (msg instanceof HttpContent content) {
      ctx.write(new DefaultHttp2DataFrame(content.content(), false), promise);
    } else {
      ctx.write(msg, promise);
    }
  }

  private static void writeResponse(ChannelHandlerContext ctx, HttpResponse response, ChannelPromise promise) {
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
  private static void writeLast(ChannelHandlerContext ctx, LastHttpContent last, boolean filler, ChannelPromise promise) {
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
