package io.gatehouse.listener;

import io.gatehouse.config.LimitsConfig;
import io.gatehouse.http.ClientTimeoutHandler;
import io.gatehouse.http.OnDemandReader;
import io.gatehouse.http.PipelineNames;
import io.gatehouse.http.ServerCodec;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import java.util.function.LongSupplier;

/**
 * Builds each client connection's pipeline:
 * {@code [tls] -> client-timeouts -> http-codec -> flow-control -> proxy}.
 * The flow-control handler makes {@code read()} deliver one decoded message at a time, which is what
 * keeps pipelined requests queued until the previous response is done.
 */
final class ClientPipeline extends ChannelInitializer<Channel> {
  private final LimitsConfig limits;
  private final ServerTls tls;
  private final ProxyHandlerFactory handlers;
  private final ChannelGroup connections;
  private final ConnectionLimiter limiter;
  private final LongSupplier clock;
  private final java.util.concurrent.atomic.AtomicInteger open = new java.util.concurrent.atomic.AtomicInteger();

  ClientPipeline(
      LimitsConfig limits, ServerTls tls, ProxyHandlerFactory handlers, ChannelGroup connections,
      ConnectionLimiter limiter, LongSupplier clock) {
    this.limits = limits;
    this.tls = tls;
    this.handlers = handlers;
    this.connections = connections;
    this.limiter = limiter;
    this.clock = clock;
  }

  @Override
  protected void initChannel(Channel ch) {
    if (!limiter.tryAdmit(ch)) {
      ch.close();
      return;
    }
    connections.add(ch);
    open.incrementAndGet();
    ch.closeFuture().addListener(f -> open.decrementAndGet());
    ChannelPipeline p = ch.pipeline();
    addTls(ch, p);
    ClientTimeoutHandler timeouts = addTimeouts(p);
    addHttpCodec(p);
    p.addLast(PipelineNames.PROXY, handlers.create(timeouts));
  }

  /** Client connections of this listener open now. */
  int openConnections() {
    return open.get();
  }

  private void addTls(Channel ch, ChannelPipeline p) {
    if (tls != null) {
      p.addLast(PipelineNames.TLS, tls.newHandler(ch));
    }
  }

  private ClientTimeoutHandler addTimeouts(ChannelPipeline p) {
    ClientTimeoutHandler timeouts = new ClientTimeoutHandler(
        limits.idleTimeout().toNanos(), limits.headerTimeout().toNanos(), clock);
    p.addLast(PipelineNames.CLIENT_TIMEOUTS, timeouts);
    return timeouts;
  }

  private void addHttpCodec(ChannelPipeline p) {
    p.addLast(PipelineNames.HTTP_CODEC, new ServerCodec(limits.maxUriBytes(), limits.maxHeaderBytes()));
    p.addLast(PipelineNames.FLOW_CONTROL, new OnDemandReader());
  }
}
