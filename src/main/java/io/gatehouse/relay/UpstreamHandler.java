package io.gatehouse.relay;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.gatehouse.http.LazyTimer;
import io.netty.util.ReferenceCountUtil;

/**
 * Last handler of every upstream pipeline ({@code HttpClientCodec -> UpstreamHandler}): passes
 * events to the attempt's try ({@link UpstreamAttempt}) that currently owns the connection. A
 * pooled, idle connection has no owner; anything it receives then is a protocol error and the
 * connection is closed.
 *
 * <p>It also times the wait for the response head of the request in flight (armed by the
 * attempt), with one task per connection, moved only when it fires and finds the deadline later,
 * or when a new deadline is earlier. A keep-alive connection answers request after
 * request with the same timeout, so the task set for the first one serves the ones after it (it
 * fires, finds a later deadline, moves once): arming and disarming per request only write fields.
 * The client side cannot do this for an HTTP/2 stream, which lives for one request; timed there,
 * each stream scheduled and cancelled a task of its own.
 */
public final class UpstreamHandler extends ChannelInboundHandlerAdapter {
  /** One per connection; a constant: Netty asks at every add (otherwise a per-thread map look-up). */
  @Override
  public boolean isSharable() {
    return false;
  }

  /** Owner of the connection; set and cleared on the channel's event loop only, so a plain field. */
  private UpstreamAttempt attempt;

  private ChannelHandlerContext ctx;
  /** The armed response deadline and what runs then; Long.MAX_VALUE and null when disarmed. */
  private long responseDeadline = Long.MAX_VALUE;
  private Runnable onResponseTimeout;
  private final LazyTimer timer = new LazyTimer(this::onTimer);

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  void attach(UpstreamAttempt attempt) {
    this.attempt = attempt;
  }

  void detach() {
    this.attempt = null;
  }

  /**
   * Runs {@code onExpiry} on the event loop after {@code timeoutNanos}, unless disarmed or re-armed
   * first. Armed even on a connection that closed meanwhile: its attempt may not have heard of the
   * close (one before it was attached), and the deadline is then what ends it.
   */
  void arm(long timeoutNanos, Runnable onExpiry) {
    long now = ctx.executor().ticker().nanoTime();
    onResponseTimeout = onExpiry;
    responseDeadline = now + timeoutNanos;
    if (!timer.firesBy(responseDeadline)) {
      timer.schedule(ctx.executor(), responseDeadline, now);
    }
  }

  void disarm() {
    onResponseTimeout = null;
    responseDeadline = Long.MAX_VALUE;
  }

  private void onTimer() {
    if (onResponseTimeout == null) {
      return; // disarmed since: an idle connection keeps no task
    }
    long now = ctx.executor().ticker().nanoTime();
    if (now < responseDeadline) {
      timer.schedule(ctx.executor(), responseDeadline, now); // armed again since, for a later deadline
      return;
    }
    Runnable expired = onResponseTimeout;
    disarm();
    expired.run();
  }

  /** A pending task holds this connection: it goes when the connection closes. */
  private void cancelTimer() {
    disarm();
    timer.cancel();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (attempt == null) {
      ReferenceCountUtil.release(msg);
      ctx.close(); // data on an idle connection: the stream is out of sync
      return;
    }
    attempt.onUpstreamRead(msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (attempt != null) {
      attempt.onUpstreamReadComplete();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (attempt != null) {
      attempt.onUpstreamWritabilityChanged();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cancelTimer();
    if (attempt != null) {
      attempt.onUpstreamClosed(null);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    UpstreamAttempt owner = attempt;
    ctx.close();
    if (owner != null) {
      owner.onUpstreamClosed(cause);
    }
  }
}
