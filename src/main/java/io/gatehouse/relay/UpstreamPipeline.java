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

  private final int maxResponseHeadBytes;

  public UpstreamPipeline(int maxResponseHeadBytes) {
    this.maxResponseHeadBytes = maxResponseHeadBytes;
  }

  @Override
  protected void initChannel(Channel ch) {
    if (ch instanceof io.netty.handler.codec.http2.Http2StreamChannel) {
      boolean tls = ch.parent().pipeline().get(io.netty.handler.ssl.SslHandler.class) != null;
      ch.pipeline()
          .addLast(PipelineNames.UPSTREAM_CODEC, new io.gatehouse.http.Http2UpstreamCodec(tls))
          .addLast(PipelineNames.UPSTREAM, new UpstreamHandler());
      return;
    }
    ch.pipeline()
        .addLast(PipelineNames.UPSTREAM_CODEC, new UpstreamCodec(8192, maxResponseHeadBytes))
        .addLast(PipelineNames.UPSTREAM, new UpstreamHandler());
  }
}
