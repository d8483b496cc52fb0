package io.gatehouse.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http2.HttpConversionUtil;

/**
 * On an HTTP/2 stream, after the frame-to-HTTP/1 codec, makes each request look like what the
 * HTTP/1.1 decoder produces, so the proxy handler needs no second code path:
 *
 * <ul>
 *   <li>a request that came as one HEADERS frame (a {@link FullHttpRequest}) is split into its
 *       head and its last content;
 *   <li>a body without {@code content-length} (legal in HTTP/2, RFC 9113 §8.1) is marked chunked,
 *       which is how it will be framed to an HTTP/1.1 upstream;
 *   <li>the {@code x-http2-*} fields the conversion adds describe this hop and are removed.
 * </ul>
 */
public final class Http2StreamRequests extends ChannelInboundHandlerAdapter {
  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof HttpRequest)) {
      ctx.fireChannelRead(msg);
      return;
    }
    HttpRequest request = (HttpRequest) msg;
    for (HttpConversionUtil.ExtensionHeaderNames name : HttpConversionUtil.ExtensionHeaderNames.values()) {
      request.headers().remove(name.text());
    }
    if (msg instanceof FullHttpRequest) {
      FullHttpRequest full = (FullHttpRequest) msg;
      if (full.content().isReadable() && !HttpUtil.isContentLengthSet(full)) {
        HttpUtil.setContentLength(full, full.content().readableBytes());
      }
      HttpRequest head = new DefaultHttpRequest(full.protocolVersion(), full.method(), full.uri(), full.headers());
      head.setDecoderResult(full.decoderResult());
      ctx.fireChannelRead(head);
      ctx.fireChannelRead(new DefaultLastHttpContent(full.content(), full.trailingHeaders()));
      return;
    }
    if (!request.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
      HttpUtil.setTransferEncodingChunked(request, true);
    }
    ctx.fireChannelRead(request);
  }

  @Override
  public boolean isSharable() {
    return true;
  }
}
