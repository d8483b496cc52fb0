package io.gatehouse.listener;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * On a cleartext listener with {@code http2.cleartext}, builds the rest of the pipeline for the
 * protocol the client opens with: the HTTP/2 connection preface (RFC 9113 §3.4, prior knowledge,
 * §3.3) gets {@link ClientPipeline#addHttp2}, anything else {@link ClientPipeline#addHttp1}. It
 * reads only as far as the first byte that differs from the preface (at most 24 bytes); they are
 * handed on to the chosen codec when this handler leaves. {@code Upgrade: h2c} (RFC 7540 §3.2) is not
 * offered: an HTTP/1.1 request asking for it is served as HTTP/1.1, the upgrade dropped.
 *
 * <p>Until it decides, the connection has no other timeouts: silence for {@code idleTimeout}, or a
 * preface that stalls for {@code headerTimeout}, closes it. Event-loop confined: plain fields.
 */
final class PriorKnowledgeSwitch extends ByteToMessageDecoder {
  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private final ClientPipeline pipeline;
  private final ListenerSettings settings;
  private ScheduledFuture<?> timeout;
  private boolean started;

  PriorKnowledgeSwitch(ClientPipeline pipeline, ListenerSettings settings) {
    this.pipeline = pipeline;
    this.settings = settings;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    super.handlerAdded(ctx);
    if (ctx.channel().isActive()) {
      start(ctx);
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    start(ctx);
    super.channelActive(ctx);
  }

  /** The channel runs with autoRead off: the first read is asked for here. */
  private void start(ChannelHandlerContext ctx) {
    if (started) {
      return;
    }
    started = true;
    closeAfter(ctx, settings.limits().idleTimeout().toNanos());
    ctx.read();
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    int n = Math.min(in.readableBytes(), PREFACE.length);
    for (int i = 0; i < n; i++) {
      if (in.getByte(in.readerIndex() + i) != PREFACE[i]) {
        choose(ctx, false);
        return;
      }
    }
    if (n == PREFACE.length) {
      choose(ctx, true);
    } else if (n > 0) {
      closeAfter(ctx, settings.limits().headerTimeout().toNanos()); // part of a preface: finish it in time
    }
  }

  private void choose(ChannelHandlerContext ctx, boolean http2) {
    cancelTimeout();
    if (http2) {
      pipeline.addHttp2(ctx.pipeline(), settings);
    } else {
      pipeline.addHttp1(ctx.pipeline(), settings);
    }
    ctx.pipeline().remove(this); // what was read goes on to the chosen codec
  }

  private void closeAfter(ChannelHandlerContext ctx, long nanos) {
    cancelTimeout();
    timeout = ctx.executor().schedule(() -> {
      ctx.close();
    }, nanos, TimeUnit.NANOSECONDS);
  }

  private void cancelTimeout() {
    if (timeout != null) {
      timeout.cancel(false);
      timeout = null;
    }
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) {
    cancelTimeout();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancelTimeout();
    super.channelInactive(ctx);
  }
}
