package io.gatehouse.listener;

import io.gatehouse.http.ClientTimeoutHandler;
import io.gatehouse.http.Http2StreamCodec;
import io.gatehouse.http.OnDemandReader;
import io.gatehouse.http.PipelineNames;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import java.util.Set;
import java.util.function.Function;

/**
 * Builds each HTTP/2 stream's pipeline, {@code http-codec -> client-timeouts -> flow-control ->
 * proxy}, when Netty's multiplexer adds it to a new stream channel: the handler the multiplexer is
 * given for every inbound stream, one instance per connection. Not a {@code ChannelInitializer}: that
 * one keeps a concurrent set of the contexts it is initializing and removes itself from each
 * pipeline afterwards, two changes per stream that buy nothing here (a stream's pipeline is built on
 * its connection's event loop, once). This handler stays, inert (it handles no event, so the
 * pipeline skips it), in front of the stream's handlers.
 */
@ChannelHandler.Sharable
final class Http2StreamPipeline extends ChannelHandlerAdapter {
  /** The connection's open stream channels, for {@link Http2Drain}; this connection's event loop only. */
  private final Set<Channel> streams;
  /** A stream's client timeouts, added under {@link PipelineNames#CLIENT_TIMEOUTS}. */
  private final java.util.function.Supplier<ClientTimeoutHandler> timeouts;
  /** The proxy handler for a stream, given its timeouts. */
  private final Function<ClientTimeoutHandler, ChannelHandler> proxy;

  Http2StreamPipeline(Set<Channel> streams, java.util.function.Supplier<ClientTimeoutHandler> timeouts,
      Function<ClientTimeoutHandler, ChannelHandler> proxy) {
    this.streams = streams;
    this.timeouts = timeouts;
    this.proxy = proxy;
  }

  /** {@code @Sharable}, as a constant: Netty asks at every add (a per-thread map look-up). */
  @Override
  public boolean isSharable() {
    return true;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    Channel stream = ctx.channel();
    stream.config().setAutoRead(false);
    streams.add(stream);
    stream.closeFuture().addListener(f -> streams.remove(stream));
    ChannelPipeline p = ctx.pipeline();
    p.addLast(PipelineNames.HTTP_CODEC, Http2StreamCodec.INSTANCE); // shared, stateless
    ClientTimeoutHandler t = timeouts.get();
    p.addLast(PipelineNames.CLIENT_TIMEOUTS, t);
    p.addLast(PipelineNames.FLOW_CONTROL, new OnDemandReader());
    p.addLast(PipelineNames.PROXY, proxy.apply(t));
  }
}
