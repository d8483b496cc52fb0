package io.gatehouse.lifecycle;

import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.FastThreadLocalThread;
import io.netty.util.concurrent.ThreadAwareExecutor;
import java.util.concurrent.ThreadFactory;

/**
 * The monotonic clock of the request path: {@link System#nanoTime()}, read at most once per turn of
 * an event loop while the loop handles the I/O that one wait for readiness returned, as nginx
 * ({@code ngx_time_update} after each {@code epoll_wait}) and HAProxy (one clock update per turn of
 * its poller) do. A request reads the clock a dozen times (its start, its upstream attempt, the
 * pool, timeouts, the endpoint's latency, the end), and each read is a {@code clock_gettime} call:
 * about 2% of the proxy's CPU with keep-alive requests, measured (docs/benchmarks.md). One turn
 * handles every connection that became ready, so times are as precise as a turn is short: a few
 * microseconds when lightly loaded, up to a millisecond or so on a saturated core, where the
 * figures that read the clock (latencies, rates, timeouts) are far coarser.
 *
 * <p>Off an event loop, and on a loop outside its I/O phase (its tasks and timers), every call reads
 * the clock: code that waits for time to pass, or runs long, sees it pass.
 */
public final class TurnClock {
  private TurnClock() {}

  /** {@link System#nanoTime()}, or the current I/O turn's reading of it on an event loop. */
  public static long nanoTime() {
    return Thread.currentThread() instanceof LoopThread loop ? loop.turnNanos() : System.nanoTime();
  }

  /** Threads for event loops whose I/O handler is {@link #turns}'s: they hold their turn's time. */
  static ThreadFactory loopThreads() {
    // The name and priority Netty gives its own event loop threads.
    return new DefaultThreadFactory(MultiThreadIoEventLoopGroup.class, Thread.MAX_PRIORITY) {
      @Override
      protected Thread newThread(Runnable r, String name) {
        return new LoopThread(threadGroup, r, name);
      }
    };
  }

  /** {@code io}'s handlers, each marking the span of its I/O turn on its {@link #loopThreads()} thread. */
  static IoHandlerFactory turns(IoHandlerFactory io) {
    return new IoHandlerFactory() {
      @Override
      public IoHandler newHandler(ThreadAwareExecutor executor) {
        return new TurnHandler(io.newHandler(executor));
      }

      @Override
      public boolean isChangingThreadSupported() {
        return io.isChangingThreadSupported();
      }
    };
  }

  static final class LoopThread extends FastThreadLocalThread {
    /** Inside an I/O turn: the clock is read once, at the first call after the wait. */
    private boolean inTurn;
    private boolean read;
    private long now;

    LoopThread(ThreadGroup group, Runnable r, String name) {
      super(group, r, name);
    }

    long turnNanos() {
      if (!inTurn) {
        return System.nanoTime();
      }
      if (!read) {
        now = System.nanoTime();
        read = true;
      }
      return now;
    }

    void beginTurn() {
      inTurn = true;
      read = false; // the wait ahead may block: the first reading is taken after it
    }

    void endTurn() {
      inTurn = false;
    }
  }

  private static final class TurnHandler extends ForwardingIoHandler {
    TurnHandler(IoHandler io) {
      super(io);
    }

    @Override
    public int run(IoHandlerContext context) {
      if (!(Thread.currentThread() instanceof LoopThread thread)) {
        return io.run(context);
      }
      thread.beginTurn();
      try {
        return io.run(context);
      } finally {
        thread.endTurn();
      }
    }
  }
}
