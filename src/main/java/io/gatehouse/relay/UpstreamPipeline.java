package io.gatehouse.relay;

import io.gatehouse.http.PipelineNames;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;

/** Builds the pipeline of an upstream connection: {@code upstream-codec -> upstream}. */
@io.netty.channel.ChannelHandler.Sharable
public final class UpstreamPipeline extends ChannelInitializer<Channel> {
  private final int maxResponseHeadBytes;

  public UpstreamPipeline(int maxResponseHeadBytes) {
    this.maxResponseHeadBytes = maxResponseHeadBytes;
  }

  @Override
  protected void initChannel(Channel ch) {
    HttpDecoderConfig decoder =
        new HttpDecoderConfig()
            .setMaxInitialLineLength(8192)
            .setMaxHeaderSize(maxResponseHeadBytes)
            .setMaxChunkSize(64 * 1024);
    ch.pipeline()
        .addLast(PipelineNames.UPSTREAM_CODEC, new HttpClientCodec(decoder, false, false))
        .addLast(PipelineNames.UPSTREAM, new UpstreamHandler());
  }
}
