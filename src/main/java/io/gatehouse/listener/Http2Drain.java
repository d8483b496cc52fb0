package io.gatehouse.listener;

import io.gatehouse.http.DrainEvent;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodec;
import java.util.concurrent.TimeUnit;

/**
 * Drains an HTTP/2 connection the way RFC 9113 §6.8 describes a graceful shutdown: a first GOAWAY
 * with the largest stream identifier (2^31-1) tells the client to open no new streams without
 * refusing any it already sent; after at least a round trip ({@link #MIN_GRACE_NANOS}) a second
 * GOAWAY names the last stream actually opened, and the connection closes once its open streams
 * end. The first GOAWAY goes at the connection's slot in the drain's spread. The codec's own
 * graceful-shutdown bound is set to the drain deadline, so a stream still open then is cut.
 *
 * <p>Sits first in an HTTP/2 connection's pipeline ({@code h2-drain -> h2-codec -> h2-timeouts
 * -> h2-streams}) and writes from the tail, so the frames pass through the codec.
 */
final class Http2Drain extends ChannelInboundHandlerAdapter {
  /** Loopback and LAN round trips are far below this; the second GOAWAY must not overtake streams in flight. */
  static final long MIN_GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  private final Http2FrameCodec codec;
  /** The connection's streams; same event loop. */
  private final Http2StreamTable streams;
  /** Confined to the connection's event loop. */
  private boolean draining;

  Http2Drain(Http2FrameCodec codec, Http2StreamTable streams) {
    this.codec = codec;
    this.streams = streams;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (!(evt instanceof DrainEvent drain)) {
      super.userEventTriggered(ctx, evt);
      return;
    }
    if (drain.atDeadline()) {
      // The connection closes right after this event: each stream's exchange is told first, so it
      // ends as drain_deadline rather than as a client that went away.
      streams.tellEveryStream(evt);
      return;
    }
    if (draining) {
      return;
    }
    draining = true;
    long slot = drain.slotNanos();
    if (slot == 0) {
      goAway(ctx, drain.deadlineNanos());
    } else {
      // Until its slot the connection serves new streams as before: the successor of a takeover
      // gets the connections one slot after the other.
      // What is left of the deadline then; none stays none (0).
      long left = drain.deadlineNanos() == 0 ? 0 : Math.max(1, drain.deadlineNanos() - slot);
      ctx.executor().schedule(() -> goAway(ctx, left), slot, TimeUnit.NANOSECONDS);
    }
  }

  private void goAway(ChannelHandlerContext ctx, long deadlineNanos) {
    if (!ctx.channel().isActive()) {
      return;
    }
    // 0 means no deadline; Netty's -1 waits for the streams without a bound.
    codec.gracefulShutdownTimeoutMillis(deadlineNanos == 0 ? -1 : Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos)));
    ctx.channel().writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR).setExtraStreamIds(Integer.MAX_VALUE));
    ctx.executor().schedule(() -> {
      if (ctx.channel().isActive()) {
        ctx.channel().writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
        ctx.channel().close(); // through the codec: closes when the open streams have ended
      }
    }, MIN_GRACE_NANOS, TimeUnit.NANOSECONDS);
  }
}
