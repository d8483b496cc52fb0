package io.gatehouse.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.http.Reason;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A parked request gets exactly one decision: the awaited one, or the fallback when the wait ends first. */
class RequestPauseTest {
  private static final long TIMEOUT = TimeUnit.MILLISECONDS.toNanos(100);
  private static final Decision DENIED = new Decision.Reply(Reason.RATE_LIMITED, "store unavailable", null);

  private final EmbeddedChannel channel = new EmbeddedChannel();
  private final AtomicLong clock = new AtomicLong();
  private final List<Decision> resumed = new ArrayList<>();

  @AfterEach
  void finish() {
    assertThat(channel.finishAndReleaseAll()).isFalse();
  }

  private void advance(long nanos) {
    clock.addAndGet(nanos);
    channel.advanceTimeBy(nanos, TimeUnit.NANOSECONDS);
    channel.runScheduledPendingTasks();
    channel.runPendingTasks();
  }

  @Test
  void a_decision_that_is_known_resumes_at_once() {
    RequestPause.run(channel.eventLoop(), clock::get, Decision.PROCEED, resumed::add);
    assertThat(resumed).containsExactly(Decision.PROCEED);
  }

  @Test
  void a_wait_resumes_on_the_event_loop_when_the_answer_comes_and_the_timer_is_cancelled() {
    CompletableFuture<Decision> later = new CompletableFuture<>();
    RequestPause.run(channel.eventLoop(), clock::get, new Decision.Wait(later, TIMEOUT, () -> DENIED), resumed::add);
    assertThat(resumed).isEmpty();
    later.complete(Decision.PROCEED); // from "another thread": hops to the loop's task queue
    assertThat(resumed).isEmpty();
    channel.runPendingTasks();
    assertThat(resumed).containsExactly(Decision.PROCEED);
    advance(2 * TIMEOUT);
    assertThat(resumed).containsExactly(Decision.PROCEED);
  }

  @Test
  void past_the_timeout_the_fallback_decides_once_and_a_late_answer_is_dropped() {
    CompletableFuture<Decision> later = new CompletableFuture<>();
    RequestPause.run(channel.eventLoop(), clock::get, new Decision.Wait(later, TIMEOUT, () -> DENIED), resumed::add);
    advance(TIMEOUT);
    assertThat(resumed).containsExactly(DENIED);
    later.complete(Decision.PROCEED);
    channel.runPendingTasks();
    assertThat(resumed).containsExactly(DENIED);
  }

  @Test
  void a_failed_wait_is_decided_by_the_fallback() {
    CompletableFuture<Decision> later = new CompletableFuture<>();
    RequestPause.run(channel.eventLoop(), clock::get, new Decision.Wait(later, TIMEOUT, () -> DENIED), resumed::add);
    later.completeExceptionally(new IllegalStateException("store down"));
    channel.runPendingTasks();
    assertThat(resumed).containsExactly(DENIED);
  }

  @Test
  void a_wait_that_yields_another_wait_goes_on_under_the_first_deadline() {
    CompletableFuture<Decision> first = new CompletableFuture<>();
    CompletableFuture<Decision> second = new CompletableFuture<>();
    RequestPause.run(channel.eventLoop(), clock::get, new Decision.Wait(first, TIMEOUT, () -> DENIED), resumed::add);
    advance(TIMEOUT / 2);
    first.complete(new Decision.Wait(second, 10 * TIMEOUT, () -> Decision.PROCEED));
    channel.runPendingTasks();
    assertThat(resumed).isEmpty();
    advance(TIMEOUT / 2);
    assertThat(resumed).containsExactly(DENIED); // the first wait's deadline and fallback
    second.complete(Decision.PROCEED);
    channel.runPendingTasks();
    assertThat(resumed).containsExactly(DENIED);
  }
}
