package io.gatehouse.relay;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * One deadline at a time for one connection, cheap to arm and disarm: arming only moves a field,
 * and the scheduler is touched only when the pending task fires and finds the deadline moved. With
 * a timeout per request, this replaces a schedule and a cancel (two priority-queue operations) per
 * request by roughly one task per timeout period. Event-loop confined: plain fields.
 */
final class LazyTimer {
  private final EventLoop loop;
  private final LongSupplier clock;
  private Runnable action;
  private long deadline;
  /** When the pending task fires; meaningful only while {@code pending}. */
  private long firesAt;
  private boolean pending;
  /** Identifies the latest scheduled task; an older one that fires finds it changed and stops. */
  private int generation;
  private ScheduledFuture<?> task;

  LazyTimer(EventLoop loop, LongSupplier clock) {
    this.loop = loop;
    this.clock = clock;
  }

  /** Runs {@code onExpiry} after {@code timeoutNanos} unless disarmed or re-armed first. */
  void arm(long timeoutNanos, Runnable onExpiry) {
    long now = clock.getAsLong();
    action = onExpiry;
    deadline = now + timeoutNanos;
    if (!pending || firesAt > deadline) {
      schedule(now, timeoutNanos);
    }
  }

  void disarm() {
    action = null;
  }

  private void schedule(long now, long delay) {
    pending = true;
    firesAt = now + delay;
    int current = ++generation;
    if (task != null) {
      task.cancel(false); // superseded by an earlier deadline
    }
    task = loop.schedule(() -> fire(current), delay, TimeUnit.NANOSECONDS);
  }

  /** Drops any pending task: the connection closed, and the task would keep it reachable. */
  void cancel() {
    action = null;
    pending = false;
    generation++;
    if (task != null) {
      task.cancel(false);
      task = null;
    }
  }

  private void fire(int fired) {
    if (fired != generation) {
      return; // an older task, superseded by one for an earlier deadline
    }
    long now = clock.getAsLong();
    pending = false;
    task = null;
    if (action == null) {
      return;
    }
    long left = deadline - now;
    if (left > 0) {
      schedule(now, left);
      return;
    }
    Runnable expired = action;
    action = null;
    expired.run();
  }
}
