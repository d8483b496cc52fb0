package io.gatehouse.listener;

import io.gatehouse.http.AbortiveClose;
import io.gatehouse.http.IdleClose;
import io.gatehouse.http.LazyTimer;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Stream;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The timeouts of an HTTP/2 connection as a whole, both {@code limits.idleTimeout} (each stream has
 * the HTTP/1.1 ones of its own request, {@link io.gatehouse.http.ClientTimeouts}):
 *
 * <ul>
 *   <li><b>Idle</b>: no open stream for that long. Frames that carry no request (PING, SETTINGS,
 *       WINDOW_UPDATE, PRIORITY) do not keep a connection open, as in Envoy's {@code idle_timeout}:
 *       a client pinging an empty connection would otherwise hold it for ever, and one trickling
 *       a header block in (a stream opens when its block ends) for as long as the block stays under
 *       the header size limit: HTTP/2's slowloris. It ends with GOAWAY
 *       NO_ERROR (RFC 9113 §6.8), then as an idle HTTP/1 connection ({@link IdleClose}: FIN, and a
 *       reset for a client that has not closed its side 2 s later).
 *   <li><b>Stalled</b>: the client has taken nothing of what the connection holds for it for that
 *       long (the channel stayed unwritable: Netty's outbound buffer above its high-water mark, the
 *       kernel's send buffer full). Each stream's own stall rule cuts its stream, but a client that
 *       never reads and keeps opening streams would keep the connection, and the kernel's queue
 *       for it, for ever; the connection is reset, which also drops that queue (the slow read of
 *       HTTP/1, {@code SlowClientTest}).
 * </ul>
 *
 * <p>One timer at most, armed when a rule starts counting and re-armed by itself; nothing on a
 * stream's or a frame's path but a counter. Sits after the frame codec ({@code h2-codec ->
 * h2-timeouts}) so that its GOAWAY goes through it. Confined to the connection's event loop.
 */
final class Http2ConnectionTimeouts extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(Http2ConnectionTimeouts.class);
  private static final long NONE = Long.MIN_VALUE;

  private final Http2Connection connection;
  private final long timeoutNanos;
  private ChannelHandlerContext ctx;
  private int openStreams;
  /** When the last stream closed (or the connection opened), while no stream is open; else NONE. */
  private long idleSince;
  /** When the channel became unwritable, while it is; else NONE. */
  private long stalledSince = NONE;
  private final LazyTimer timer = new LazyTimer(this::check);
  private boolean ended;

  Http2ConnectionTimeouts(Http2Connection connection, long timeoutNanos) {
    this.connection = connection;
    this.timeoutNanos = timeoutNanos;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    connection.addListener(new Http2ConnectionAdapter() {
      @Override
      public void onStreamActive(Http2Stream stream) {
        if (openStreams++ == 0) {
          idleSince = NONE;
        }
      }

      @Override
      public void onStreamClosed(Http2Stream stream) {
        if (--openStreams == 0) {
          idleSince = now();
          armFor(idleSince);
        }
      }
    });
    idleSince = now();
    armFor(idleSince);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (ctx.channel().isWritable()) {
      stalledSince = NONE;
    } else if (stalledSince == NONE) {
      stalledSince = now();
      armFor(stalledSince);
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    ended = true;
    cancelTimer();
    super.channelInactive(ctx);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    ended = true;
    cancelTimer();
  }

  /** Makes sure the timer fires by the time a rule that started counting at {@code since} runs out. */
  private void armFor(long since) {
    long at = since + timeoutNanos;
    if (ended || timer.firesBy(at)) {
      return; // it fires sooner, and re-arms for what is left
    }
    timer.schedule(ctx.executor(), at, now());
  }

  private void check() {
    if (ended || !ctx.channel().isActive()) {
      return;
    }
    long now = now();
    if (stalledSince != NONE && now - stalledSince >= timeoutNanos) {
      ended = true;
      log.debug("{} HTTP/2 client took nothing for {} ms: reset", ctx.channel(), TimeUnit.NANOSECONDS.toMillis(now - stalledSince));
      AbortiveClose.reset(ctx.channel());
    } else if (idleSince != NONE && now - idleSince >= timeoutNanos) {
      ended = true;
      ctx.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR));
      IdleClose.close(ctx);
    } else {
      if (stalledSince != NONE) {
        armFor(stalledSince);
      }
      if (idleSince != NONE) {
        armFor(idleSince);
      }
    }
  }

  /** The event loop's clock (System.nanoTime in production, a test's own in EmbeddedChannel). */
  private long now() {
    return ctx.executor().ticker().nanoTime();
  }

  private void cancelTimer() {
    timer.cancel();
  }
}
