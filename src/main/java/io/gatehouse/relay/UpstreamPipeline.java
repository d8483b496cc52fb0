package io.gatehouse.relay;

import io.gatehouse.http.PipelineNames;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.gatehouse.http.UpstreamCodec;

/**
 * Builds the pipeline of an upstream connection, {@code upstream-codec -> upstream}, and of each
 * stream of an HTTP/2 upstream connection, {@code upstream-codec (Http2UpstreamCodec) -> upstream}:
 * the same upstream handler reads the same HTTP/1 messages from either.
 */
@io.netty.channel.ChannelHandler.Sharable
public final class UpstreamPipeline extends ChannelInitializer<Channel> {
  /** Shared by every connection; a constant: Netty asks at every add (otherwise a per-thread map look-up). */
  @Override
  public boolean isSharable() {
    return true;
  }

  /** The largest response head (and trailer section) read from an upstream. */
  public static final int MAX_RESPONSE_HEAD_BYTES = 64 * 1024;

  private final int maxResponseHeadBytes;

  public UpstreamPipeline(int maxResponseHeadBytes) {
    this.maxResponseHeadBytes = maxResponseHeadBytes;
  }

  @Override
  protected void initChannel(Channel ch) {
    if (ch instanceof io.netty.handler.codec.http2.Http2StreamChannel) {
      addStreamHandlers(ch);
      return;
    }
    ch.pipeline()
        .addLast(PipelineNames.UPSTREAM_CODEC, new UpstreamCodec(8192, maxResponseHeadBytes))
        .addLast(PipelineNames.UPSTREAM, new UpstreamHandler());
  }

  private static void addStreamHandlers(Channel stream) {
    boolean tls = stream.parent().pipeline().get(io.netty.handler.ssl.SslHandler.class) != null;
    stream.pipeline()
        .addLast(PipelineNames.UPSTREAM_CODEC, new io.gatehouse.http.Http2UpstreamCodec(tls))
        .addLast(PipelineNames.UPSTREAM, new UpstreamHandler());
  }

  /**
   * The handler each stream of an HTTP/2 upstream connection is opened with: it adds the stream's
   * handlers and stays, inert (it handles no event, so the pipeline skips it). Not a
   * {@code ChannelInitializer}, which adds itself, then removes itself and keeps a concurrent set
   * of the contexts it initializes: per request, on this path.
   */
  public static final io.netty.channel.ChannelHandler HTTP2_STREAMS = new StreamHandlers();

  @io.netty.channel.ChannelHandler.Sharable
  private static final class StreamHandlers extends io.netty.channel.ChannelHandlerAdapter {
    @Override
    public boolean isSharable() {
      return true;
    }

    @Override
    public void handlerAdded(io.netty.channel.ChannelHandlerContext ctx) {
      addStreamHandlers(ctx.channel());
    }
  }
}
