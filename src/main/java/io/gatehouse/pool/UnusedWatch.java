package io.gatehouse.pool;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Tells the {@link PoolRegistry} to forget a pool that has had no connection and no waiting caller
 * for its idle time ({@code maxIdleTime}, or 60 s when idle connections never expire): a forward
 * proxy meets origins without end, and a pool per origin ever visited would grow without bound.
 * One per pool, on the pool's loop: plain fields.
 */
final class UnusedWatch {
  private final EventLoop loop;
  private final LongSupplier nanoClock;
  private final long afterNanos;
  /** Whether the pool has a connection or a waiting caller now. */
  private final BooleanSupplier inUse;
  private Runnable forget;
  private ScheduledFuture<?> check;
  /** When the pool last became empty (or the watch started). */
  private long emptySince;

  UnusedWatch(EventLoop loop, LongSupplier nanoClock, long maxIdleNanos, BooleanSupplier inUse) {
    this.loop = loop;
    this.nanoClock = nanoClock;
    this.afterNanos = maxIdleNanos > 0 ? maxIdleNanos : TimeUnit.SECONDS.toNanos(60);
    this.inUse = inUse;
  }

  /** Starts watching: {@code forget} runs once the pool stayed unused for the whole time. */
  void start(Runnable forget) {
    this.forget = forget;
    becameEmpty();
  }

  /** The pool has just lost its last connection and waiting caller. */
  void becameEmpty() {
    emptySince = nanoClock.getAsLong();
    if (check == null && forget != null) {
      check = loop.schedule(this::check, afterNanos, TimeUnit.NANOSECONDS);
    }
  }

  private void check() {
    check = null;
    if (inUse.getAsBoolean()) {
      return; // in use: watched again when it empties
    }
    long left = afterNanos - (nanoClock.getAsLong() - emptySince);
    if (left > 0) {
      check = loop.schedule(this::check, left, TimeUnit.NANOSECONDS);
      return;
    }
    forget.run();
  }
}
