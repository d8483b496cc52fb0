package io.gatehouse.relay;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * A request parked on a {@link Decision.Wait}: nothing more is read from the client meanwhile (the
 * channel runs with autoRead off and nobody asks for a read), the event loop serves other
 * connections, and the request resumes on its own event loop with exactly one final decision: the
 * awaited one, or the fallback when the wait ends first (a bounded wait) or fails. A wait that
 * yields another wait goes on under the first deadline.
 *
 * <p>Fields are confined to the channel's event loop: completions from other threads hop there
 * before touching them, so none is volatile.
 */
final class RequestPause {
  private final EventLoop loop;
  private final LongSupplier clock;
  private final Consumer<Decision> resume;
  private final Decision.Wait first;
  private final long deadlineNanos;
  private ScheduledFuture<?> timer;
  private boolean settled;

  private RequestPause(EventLoop loop, LongSupplier clock, Decision.Wait first, Consumer<Decision> resume) {
    this.loop = loop;
    this.clock = clock;
    this.first = first;
    this.resume = resume;
    this.deadlineNanos = clock.getAsLong() + first.timeoutNanos();
  }

  /**
   * Gives {@code resume} the final decision: at once when {@code decision} is one already,
   * otherwise later, on {@code loop}, the client side's event loop. Called on that loop.
   */
  static void run(EventLoop loop, LongSupplier clock, Decision decision, Consumer<Decision> resume) {
    if (decision instanceof Decision.Wait wait) {
      RequestPause pause = new RequestPause(loop, clock, wait, resume);
      pause.timer = loop.schedule(pause::timedOut, wait.timeoutNanos(), TimeUnit.NANOSECONDS);
      pause.await(wait);
    } else {
      resume.accept(decision);
    }
  }

  private void await(Decision.Wait wait) {
    wait.later().whenComplete((decision, failure) -> {
      try {
        loop.execute(() -> completed(failure == null ? decision : null));
      } catch (RejectedExecutionException e) {
        // The event loop stopped (shutdown): its channels are closed, nobody is waiting any more.
      }
    });
  }

  private void completed(Decision decision) {
    if (settled) {
      return;
    }
    if (decision instanceof Decision.Wait next) {
      if (clock.getAsLong() - deadlineNanos < 0) {
        await(next);
        return;
      }
      decision = null;
    }
    settle(decision == null ? first.fallback().get() : decision);
  }

  private void timedOut() {
    if (!settled) {
      settle(first.fallback().get());
    }
  }

  private void settle(Decision decision) {
    settled = true;
    timer.cancel(false);
    if (decision instanceof Decision.Wait) {
      decision = Decision.PROCEED; // a fallback that waits again breaks the contract: do not hang the request
    }
    resume.accept(decision);
  }
}
