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
 *       the proxy handler can answer 408 through the codec;
 *   <li>body: during an exchange, a read the proxy asked for (request body) must bring a byte
 *       within {@code idleTimeout}; otherwise {@link #BODY_TIMEOUT} is fired. The clock runs only
 *       while the proxy waits for the client, never while it holds back reading (backpressure).
 * </ul>
 *
 * The proxy handler says when an exchange starts and ends. One timer per connection is kept and only moved when it fires, so the per-request cost is
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

  /** User event fired when a request body stalled: no byte within the idle timeout of a read. */
  public static final Object BODY_TIMEOUT = new Object() {
    @Override
    public String toString() {
      return "BODY_TIMEOUT";
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
  /** In an exchange: a read was requested and no byte has arrived since. */
  private boolean waitingForClient;

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
    waitingForClient = false;
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

  @Override
  public void read(ChannelHandlerContext ctx) throws Exception {
    if (state == State.EXCHANGE && !waitingForClient && idleNanos > 0) {
      // Slow-body guard: the slow-loris of the body. Only while this side waits for the client.
      waitingForClient = true;
      deadline = clock.getAsLong() + idleNanos;
      if (timer != null && deadline - timerDeadline < 0) {
        timer.cancel(false);
        timer = null;
      }
      if (timer == null) {
        schedule(idleNanos);
      }
    }
    ctx.read();
  }

  /** A request head was decoded: only the body timeout runs until {@link #exchangeEnded()}. */
  public void exchangeStarted() {
    state = State.EXCHANGE;
    waitingForClient = false;
  }

  /** The response was sent: the connection waits for the next request. */
  public void exchangeEnded() {
    waitingForClient = false;
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
    if (!ctx.channel().isActive() || state == State.EXPIRED) {
      return;
    }
    if (state == State.EXCHANGE && !waitingForClient) {
      return;
    }
    long left = deadline - clock.getAsLong();
    if (left > 0) {
      schedule(left);
      return;
    }
    if (state == State.IDLE) {
      ctx.close();
    } else if (state == State.EXCHANGE) {
      state = State.EXPIRED;
      ctx.pipeline().fireUserEventTriggered(BODY_TIMEOUT);
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
