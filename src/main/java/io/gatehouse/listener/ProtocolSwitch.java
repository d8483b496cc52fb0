package io.gatehouse.listener;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;

/**
 * After the TLS handshake, builds the rest of the pipeline for the protocol ALPN chose: HTTP/2
 * (a stream table: each stream with its own proxy handler) or HTTP/1.1. Clients that
 * offer no ALPN get HTTP/1.1.
 */
final class ProtocolSwitch extends ApplicationProtocolNegotiationHandler {
  private final ClientPipeline pipeline;
  private final ListenerSettings settings;

  ProtocolSwitch(ClientPipeline pipeline, ListenerSettings settings) {
    super(ApplicationProtocolNames.HTTP_1_1);
    this.pipeline = pipeline;
    this.settings = settings;
  }

  /** The channel runs with autoRead off: the handshake needs a first read to start. */
  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    super.handlerAdded(ctx);
    if (ctx.channel().isActive()) {
      ctx.read();
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    super.channelActive(ctx);
    ctx.read();
  }

  /** Counted and logged (one line, rate limited) by the {@link TlsErrorHandler} in front. */
  @Override
  protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }

  @Override
  protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
    if (ApplicationProtocolNames.HTTP_2.equals(protocol)) {
      pipeline.addHttp2(ctx.pipeline(), settings);
    } else {
      pipeline.addHttp1(ctx.pipeline(), settings);
    }
  }
}
