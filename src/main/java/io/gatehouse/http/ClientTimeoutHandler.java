package io.gatehouse.http;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Client-side timeouts, in front of the HTTP codec where it sees raw bytes:
 *
 * <ul>
 *   <li>idle: no byte of a next request within {@code idleTimeout} closes the connection quietly;
 *   <li>head: once a request's first byte arrived, its whole head must arrive within {@code
 *       headerTimeout} (the slow-loris guard); otherwise {@link #HEADER_TIMEOUT} is fired inbound so
 *       the proxy handler can answer 408 through the codec.
 * </ul>
 *
 * While an exchange is in progress neither applies; the proxy handler says when one starts and
 * ends. One timer per connection is kept and only moved when it fires, so the per-request cost is
 * two field writes. Fields are event-loop confined.
 *
 * <p>Pipeline: {@code [tls] -> client-timeouts -> http-codec -> flow-control -> proxy}.
 */
public final class ClientTimeoutHandler extends ChannelDuplexHandler {
  /** User event fired when a request head did not arrive in time. */
  public static final Object HEADER_TIMEOUT = new Object() {
    @Override
    public String toString() {
      return "HEADER_TIMEOUT";
    }
  };

  private enum State { IDLE, HEAD, EXCHANGE, EXPIRED }

  private final long idleNanos;
  private final long headerNanos;
  private final LongSupplier clock;
  private State state = State.IDLE;
  private long deadline;
  private ScheduledFuture<?> timer;
  /** When {@link #timer} fires. */
  private long timerDeadline;
  private ChannelHandlerContext ctx;

  public ClientTimeoutHandler(long idleNanos, long headerNanos, LongSupplier clock) {
    this.idleNanos = idleNanos;
    this.headerNanos = headerNanos;
    this.clock = clock;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    enter(State.IDLE, idleNanos);
    super.channelActive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (state == State.IDLE) {
      enter(State.HEAD, headerNanos);
    }
    super.channelRead(ctx, msg);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancel();
    super.channelInactive(ctx);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancel();
  }

  /** A request head was decoded: no client timeout runs until {@link #exchangeEnded()}. */
  public void exchangeStarted() {
    state = State.EXCHANGE;
  }

  /** The response was sent: the connection waits for the next request. */
  public void exchangeEnded() {
    if (state != State.EXPIRED) {
      enter(State.IDLE, idleNanos);
    }
  }

  private void enter(State next, long timeoutNanos) {
    state = next;
    if (timeoutNanos <= 0) {
      return;
    }
    deadline = clock.getAsLong() + timeoutNanos;
    if (timer != null && deadline - timerDeadline < 0) {
      // The running timer fires too late for this deadline (a header timeout shorter than the
      // idle timeout that was running): without moving it, a slow head got the idle timeout.
      timer.cancel(false);
      timer = null;
    }
    if (timer == null) {
      schedule(timeoutNanos);
    }
  }

  private void schedule(long delayNanos) {
    timerDeadline = clock.getAsLong() + delayNanos;
    timer = ctx.executor().schedule(this::onTimer, delayNanos, TimeUnit.NANOSECONDS);
  }

  private void onTimer() {
    timer = null;
    if (!ctx.channel().isActive() || state == State.EXCHANGE || state == State.EXPIRED) {
      return;
    }
    long left = deadline - clock.getAsLong();
    if (left > 0) {
      schedule(left);
      return;
    }
    if (state == State.IDLE) {
      ctx.close();
    } else {
      state = State.EXPIRED;
      ctx.pipeline().fireUserEventTriggered(HEADER_TIMEOUT);
    }
  }

  private void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }
}
