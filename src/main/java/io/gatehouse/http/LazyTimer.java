package io.gatehouse.http;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The one scheduled task of a connection's timeouts, firing no later than the earliest deadline
 * asked of it. It is moved only when an earlier deadline is asked for, so asking again for later
 * ones (request after request with the same timeout) compares two numbers and schedules nothing;
 * when it fires, its owner checks what ran out and asks again for what is left. A pending task
 * holds its owner, and through it the connection: {@link #cancel} when the connection closes.
 * Confined to the owner's event loop.
 *
 * <p>Used as {@code if (!timer.firesBy(deadline)) timer.schedule(executor, deadline, now)}: the
 * clock is read only when a task is (re)scheduled.
 */
public final class LazyTimer implements Runnable {
  private final Runnable onFire;
  private ScheduledFuture<?> task;
  private long firesAt;

  /** @param onFire what runs, on the event loop, when the task fires */
  public LazyTimer(Runnable onFire) {
    this.onFire = onFire;
  }

  /** Whether a pending task fires no later than {@code deadline}. */
  public boolean firesBy(long deadline) {
    return task != null && firesAt <= deadline;
  }

  /** Schedules the task for {@code deadline} ({@code now} on the same clock), superseding one pending. */
  public void schedule(EventExecutor executor, long deadline, long now) {
    if (task != null) {
      task.cancel(false); // superseded by an earlier deadline
    }
    firesAt = deadline;
    task = executor.schedule(this, Math.max(0, deadline - now), TimeUnit.NANOSECONDS);
  }

  public boolean pending() {
    return task != null;
  }

  /** Cancels the pending task, if any (a cancelled task never runs: both happen on the event loop). */
  public void cancel() {
    if (task != null) {
      task.cancel(false);
      task = null;
    }
  }

  /** The task itself: no longer pending once it runs. */
  @Override
  public void run() {
    task = null;
    onFire.run();
  }
}
