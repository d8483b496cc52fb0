package io.gatehouse.relay;

import io.netty.channel.EventLoop;
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
    int task = ++generation;
    loop.schedule(() -> fire(task), delay, TimeUnit.NANOSECONDS);
  }

  private void fire(int task) {
    if (task != generation) {
      return; // an older task, superseded by one for an earlier deadline
    }
    long now = clock.getAsLong();
    pending = false;
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
