package io.gatehouse.relay;

import io.gatehouse.http.PipelineNames;
import io.gatehouse.http.ServerCodec;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.CombinedChannelDuplexHandler;
import java.util.function.LongSupplier;

/**
 * Turns a client connection and its upstream connection, after the upstream's 101 (RFC 9110 §15.2.2),
 * into the two sides of a {@link TunnelRelay}: both drop their HTTP handlers.
 */
final class ProtocolUpgrade {
  private ProtocolUpgrade() {}

  /**
   * @param proxy the client's proxy handler, which leaves the pipeline
   * @param onClose told when the tunnel ends, with its byte counts
   */
  static void install(Channel client, ChannelHandler proxy, Channel upstream, long idleNanos, LongSupplier clock,
      TunnelRelay.Listener onClose) {
    ChannelPipeline p = client.pipeline();
    p.remove(proxy);
    // The tunnel goes in first so bytes the HTTP handlers still hold flow into it as they leave.
    TunnelRelay.start(client, upstream, idleNanos, clock, onClose);
    // The HTTP encoders leave before any decoder: removing a decoder hands the bytes it still
    // holds (a frame sent right behind the 101, or right behind the upgrade request) to the tunnel,
    // which writes them to the other side, where an HTTP encoder would refuse a raw buffer.
    removeEncoder(upstream.pipeline().get(PipelineNames.UPSTREAM_CODEC));
    removeEncoder(p.get(PipelineNames.HTTP_CODEC));
    upstream.pipeline().remove(PipelineNames.UPSTREAM);
    upstream.pipeline().remove(PipelineNames.UPSTREAM_CODEC);
    for (String name : new String[] {PipelineNames.FLOW_CONTROL, PipelineNames.HTTP_CODEC, PipelineNames.CLIENT_TIMEOUTS}) {
      if (p.get(name) != null) {
        p.remove(name);
      }
    }
  }

  private static void removeEncoder(ChannelHandler codec) {
    if (codec instanceof ServerCodec client) {
      client.endResponses();
    } else if (codec instanceof CombinedChannelDuplexHandler<?, ?> combined) {
      combined.removeOutboundHandler();
    }
  }
}
