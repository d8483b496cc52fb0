package io.gatehouse.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.Map;

/**
 * On a stream of an HTTP/2 upstream connection: the relay's HTTP/1 messages out as HEADERS and
 * DATA frames, the response's frames back as the HTTP/1 messages the relay reads from an HTTP/1.1
 * upstream, so the exchange, its retries and its response path are the same for both.
 *
 * <ul>
 *   <li>The request head becomes {@code :method}, {@code :scheme} (of this hop: {@code https} over
 *       TLS), {@code :authority} (from {@code Host}) and {@code :path} (RFC 9113 §8.3.1), then the
 *       fields in lower case without the connection-specific ones (§8.2.2); {@code te: trailers}
 *       goes on when the client sent it (gRPC needs it). A request without a body ends with its
 *       HEADERS (END_STREAM); body parts are DATA, the last with END_STREAM, trailers a last HEADERS.
 *   <li>A 1xx HEADERS is an interim response (head and empty end); the final HEADERS is the
 *       response head, a whole response when it ends the stream (trailers-only, as gRPC answers an
 *       error); DATA are body parts; a HEADERS after them is the trailers, in the last part.
 *   <li>A stream the peer refused unprocessed (RST_STREAM REFUSED_STREAM, or above the last id of
 *       its GOAWAY, §8.7) fails with {@link Unprocessed}: the exchange may send the request again
 *       whatever its method. Any other reset closes the stream (the upstream reset the exchange).
 * </ul>
 *
 * <p>One per stream; confined to the connection's event loop.
 */
public final class Http2UpstreamCodec extends ChannelDuplexHandler {
  private static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);
  private static final AsciiString HTTPS = AsciiString.cached("https");
  private static final AsciiString HTTP = AsciiString.cached("http");
  private static final AsciiString TRAILERS = AsciiString.cached("trailers");

  /** The request was refused by the peer before it processed it (RFC 9113 §8.7): safe to send again. */
  public static final class Unprocessed extends RuntimeException {
    public Unprocessed(String message) {
      super(message, null, false, false);
    }
  }

  private final boolean tls;
  private boolean headRequest;
  /** The final response's {@code content-length} when it has a body by definition, else -1; and its DATA bytes so far. */
  private long declaredLength = HttpHead.NO_LENGTH;
  private long dataBytes;
  /** The request ended with its HEADERS: its (empty) last part is not a frame. */
  private boolean requestEnded;
  private boolean finalResponse;

  public Http2UpstreamCodec(boolean tls) {
    this.tls = tls;
  }

  @Override
  public boolean isSharable() {
    return false;
  }

  // ---- request out

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof HttpRequest request) {
      boolean bodiless = !announcesBody(request) && !(msg instanceof HttpContent content && content.content().isReadable());
      Http2Headers headers;
      try {
        headers = requestHeaders(request);
      } catch (RuntimeException e) {
        ReferenceCountUtil.release(msg);
        promise.setFailure(e);
        ctx.close();
        return;
      }
      headRequest = HttpMethod.HEAD.equals(request.method());
      requestEnded = bodiless;
      // A HEADERS that cannot be written opened no stream (the connection closed, or no stream id
      // is left): the peer never saw the request.
      ChannelPromise opened = ctx.newPromise().addListener(f -> {
        if (!f.isSuccess()) {
          ctx.fireExceptionCaught(new Unprocessed("request HEADERS not sent: " + f.cause()));
        }
      });
      ctx.write(new DefaultHttp2HeadersFrame(headers, bodiless), opened);
      if (!(msg instanceof HttpContent)) {
        opened.addListener(f -> {
          if (f.isSuccess()) {
            promise.trySuccess();
          } else {
            promise.tryFailure(f.cause());
          }
        });
        return;
      }
    }
    if (msg instanceof HttpContent content) {
      writeContent(ctx, content, promise);
      return;
    }
    if (!(msg instanceof HttpRequest)) {
      ctx.write(msg, promise);
    }
  }

  private void writeContent(ChannelHandlerContext ctx, HttpContent content, ChannelPromise promise) {
    boolean last = content instanceof LastHttpContent;
    if (requestEnded) {
      content.release(); // the empty end of a request that ended with its HEADERS
      promise.trySuccess();
      return;
    }
    if (!last) {
      if (!content.content().isReadable()) {
        content.release();
        promise.trySuccess();
        return;
      }
      ctx.write(new DefaultHttp2DataFrame(content.content(), false), promise);
      return;
    }
    requestEnded = true;
    HttpHeaders trailers = ((LastHttpContent) content).trailingHeaders();
    if (trailers.isEmpty()) {
      ctx.write(new DefaultHttp2DataFrame(content.content(), true), promise);
      return;
    }
    if (content.content().isReadable()) {
      ctx.write(new DefaultHttp2DataFrame(content.content(), false), ctx.voidPromise());
    } else {
      content.release();
    }
    Http2Headers fields = new DefaultHttp2Headers(false);
    copyFields(trailers, fields);
    ctx.write(new DefaultHttp2HeadersFrame(fields, true), promise);
  }

  /**
   * Whether the request's head announces a body: chunked (the relay sets {@code Transfer-Encoding}
   * for a body of unknown length) or a length above 0. Read through {@link MessageFields}: a
   * request still in its received bytes stays so.
   */
  private static boolean announcesBody(HttpRequest request) {
    MessageFields fields = MessageFields.of(request);
    if (fields.get(HttpHeaderNames.TRANSFER_ENCODING) != null) {
      return true;
    }
    String length = fields.get(HttpHeaderNames.CONTENT_LENGTH);
    if (length == null) {
      return false;
    }
    for (int i = 0; i < length.length(); i++) {
      char c = length.charAt(i);
      if (c != '0' && c != ' ' && c != '\t') {
        return true; // the decoders let through one run of digits only: not all zeros
      }
    }
    return false;
  }

  private Http2Headers requestHeaders(HttpRequest request) {
    ClientRequest received = request instanceof ClientRequest r && r.writesByRanges() ? r : null;
    Http2Headers out = new DefaultHttp2Headers(false, received != null ? received.head().fieldCount() + 4 : request.headers().size() + 4);
    out.method(request.method().asciiName());
    out.scheme(tls ? HTTPS : HTTP);
    String uri = request.uri();
    String authority = received != null ? received.get(HttpHeaderNames.HOST) : request.headers().get(HttpHeaderNames.HOST);
    if (!uri.startsWith("/") && !"*".equals(uri)) {
      java.net.URI target = java.net.URI.create(uri); // absolute-form (RFC 9112 §3.2.2)
      uri = target.getRawPath() == null || target.getRawPath().isEmpty() ? "/" : target.getRawPath();
      if (target.getRawQuery() != null) {
        uri = uri + "?" + target.getRawQuery();
      }
      if (authority == null) {
        authority = target.getRawAuthority();
      }
    }
    out.path(uri);
    if (authority != null) {
      out.authority(authority);
    }
    if (received != null) {
      received.addHttp2Fields(out);
    } else {
      copyFields(request.headers(), out);
    }
    String te = request instanceof ClientRequest client ? client.received(HttpHeaderNames.TE) : null;
    if (te != null && te.toLowerCase(java.util.Locale.ROOT).contains("trailers")) {
      out.add(HttpHeaderNames.TE, TRAILERS); // the one TE value HTTP/2 allows (§8.2.2); gRPC requires it
    }
    return out;
  }

  /** The fields as HTTP/2 needs them: lower-case names, the connection-specific ones left out. */
  private static void copyFields(HttpHeaders in, Http2Headers out) {
    for (java.util.Iterator<Map.Entry<CharSequence, CharSequence>> it = in.iteratorCharSequence(); it.hasNext(); ) {
      Map.Entry<CharSequence, CharSequence> field = it.next();
      AsciiString name = AsciiString.of(field.getKey()).toLowerCase(); // the same instance when it is already
      if (!connectionSpecific(name)) {
        out.add(name, field.getValue());
      }
    }
  }

  /** A field HTTP/2 has no place for (§8.2.2), or {@code host}, which {@code :authority} replaces. */
  private static boolean connectionSpecific(AsciiString name) {
    return HopByHop.isFixed(name) || HttpHeaderNames.HOST.contentEquals(name);
  }

  // ---- response in

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof Http2HeadersFrame frame) {
      onHeaders(ctx, frame);
    } else if (msg instanceof Http2DataFrame data) {
      if (!finalResponse) {
        data.release();
        malformed(ctx, "DATA before the response HEADERS");
        return;
      }
      dataBytes += data.content().readableBytes();
      if (data.isEndStream() && declaredLength > dataBytes) {
        // Netty's decoder lets a client stream end with no DATA whatever its content-length (the
        // answer to a HEAD looks so): the body is short. Forwarding its end would let an HTTP/1.1
        // client take its next response for the rest of this one; the stream is cut instead, as
        // an HTTP/1.1 upstream that closes inside a body (the client's connection is closed).
        data.release();
        ctx.close();
        return;
      }
      ctx.fireChannelRead(data.isEndStream() ? new DefaultLastHttpContent(data.content()) : new DefaultHttpContent(data.content()));
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onHeaders(ChannelHandlerContext ctx, Http2HeadersFrame frame) {
    Http2Headers headers = frame.headers();
    if (finalResponse) {
      // Trailers (§8.1): the frame codec let them through only with END_STREAM.
      LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, HEADERS);
      try {
        copyPlainFields(headers, last.trailingHeaders());
      } catch (IllegalArgumentException e) {
        // The head went on already: the response is cut, as when an HTTP/1.1 upstream's trailer
        // section is malformed (the client's connection closes; nothing of the trailers reaches it).
        ctx.close();
        return;
      }
      TrailerFields.strip(last.trailingHeaders());
      ctx.fireChannelRead(last);
      return;
    }
    int code = statusCode(headers.status());
    if (code < 0) {
      malformed(ctx, "response without a valid :status");
      return;
    }
    if (code < 200) {
      if (code == 101 || frame.isEndStream()) {
        malformed(ctx, "status " + code + " on an HTTP/2 stream"); // §8.6: no 101 in HTTP/2
        return;
      }
      DefaultHttpResponse interim = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code),
          HEADERS.newHeaders());
      try {
        copyPlainFields(headers, interim.headers());
      } catch (IllegalArgumentException e) {
        malformed(ctx, e.getMessage());
        return;
      }
      ctx.fireChannelRead(interim);
      ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
      return;
    }
    finalResponse = true;
    // A response whose HEADERS end the stream is whole, its body empty (trailers-only, as gRPC
    // answers an error): a length of 0 unless it has one or has no body by definition.
    boolean bodyless = headRequest || code == 204 || code == 304;
    boolean lengthZero = frame.isEndStream() && !bodyless && !headers.contains(HttpHeaderNames.CONTENT_LENGTH);
    HttpResponse response;
    try {
      response = Http2UpstreamResponseHead.of(code, headers, frame.isEndStream(), lengthZero);
    } catch (IllegalArgumentException e) {
      malformed(ctx, e.getMessage());
      return;
    }
    declaredLength = bodyless ? HttpHead.NO_LENGTH : ((UpstreamResponse) response).head().contentLength();
    if (frame.isEndStream() && declaredLength > 0) {
      malformed(ctx, "content-length " + declaredLength + " but the stream ended with its HEADERS");
      return;
    }
    ctx.fireChannelRead(response);
  }

  /** A {@code :status} of three digits (RFC 9113 §8.3.2, RFC 9110 §15), or -1. */
  private static int statusCode(CharSequence status) {
    if (status == null || status.length() != 3) {
      return -1;
    }
    int code = 0;
    for (int i = 0; i < 3; i++) {
      char c = status.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      code = code * 10 + (c - '0');
    }
    return code < 100 ? -1 : code;
  }

  /**
   * Regular fields of an HTTP/2 header block, pseudo-headers left out. The frame codec checked the
   * names (§8.2); a value is checked here, as an HTTP/1.1 client's head will carry it.
   *
   * @throws IllegalArgumentException for a value with a control byte (a CR or LF would split it)
   */
  private static void copyPlainFields(Http2Headers from, HttpHeaders to) {
    for (Map.Entry<CharSequence, CharSequence> field : from) {
      CharSequence name = field.getKey();
      if (name.length() > 0 && name.charAt(0) != ':') {
        FieldIndex.checkValue(field.getValue());
        to.add(name, field.getValue());
      }
    }
  }

  private void malformed(ChannelHandlerContext ctx, String why) {
    DefaultHttpResponse bad = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_GATEWAY);
    bad.setDecoderResult(DecoderResult.failure(new IllegalStateException(why)));
    finalResponse = true;
    ctx.fireChannelRead(bad); // the attempt answers 502 and closes the stream
  }

  /** Why the peer did not process this stream's request, once it said so; reported when the stream closes. */
  private String unprocessed;

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof Http2ResetFrame reset) {
      if (reset.errorCode() == Http2Error.REFUSED_STREAM.code() && !finalResponse) {
        unprocessed = "stream refused by the upstream (REFUSED_STREAM)";
      }
      return; // the stream closes next: the exchange sees its upstream reset
    }
    if (evt instanceof Http2GoAwayFrame goAway) {
      goAway.release();
      if (!finalResponse) {
        unprocessed = "stream above the last one the upstream processes (GOAWAY)";
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  /**
   * The refusal is told when the stream has closed, not when it is read: the exchange closes its
   * channel at once, and a stream still open here would then send a RST_STREAM of its own for a
   * stream the peer never opened, which the peer may take for a connection error (§6.4, §5.1).
   */
  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (unprocessed != null) {
      ctx.fireExceptionCaught(new Unprocessed(unprocessed));
    }
    ctx.fireChannelInactive();
  }
}
