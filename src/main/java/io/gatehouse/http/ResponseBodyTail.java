package io.gatehouse.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;

/**
 * The rest of a response body whose head another process wrote to this client connection (a
 * hand-off moved the response in flight): its parts are framed as the head announced, chunked or as
 * they come ({@link RangedBody}), until the last. Other writes pass as they are.
 */
public final class ResponseBodyTail extends ChannelOutboundHandlerAdapter {
  private final RangedBody body = new RangedBody();

  public ResponseBodyTail(boolean chunked) {
    body.start(chunked ? RangedBody.CHUNKED : RangedBody.RAW);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (body.active() && msg instanceof HttpContent part) {
      body.write(ctx, part, promise);
    } else {
      ctx.write(msg, promise);
    }
  }
}
