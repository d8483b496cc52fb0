package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.CountingLoop;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The one task of a connection's timeouts: moved only for an earlier deadline, gone once run or cancelled. */
class LazyTimerTest {
  private final CountingLoop loop = new CountingLoop();
  private final AtomicInteger fired = new AtomicInteger();
  private final LazyTimer timer = new LazyTimer(fired::incrementAndGet);

  private void ask(long deadline) {
    if (!timer.firesBy(deadline)) {
      timer.schedule(loop, deadline, loop.ticker.nanoTime());
    }
  }

  @Test
  void a_later_deadline_keeps_the_pending_task_and_an_earlier_one_replaces_it() {
    long now = loop.ticker.nanoTime();
    ask(now + 100);
    ask(now + 200); // later: kept
    assertThat(loop.scheduled).isEqualTo(1);
    ask(now + 50); // earlier: replaces it
    assertThat(loop.scheduled).isEqualTo(2);
    assertThat(loop.pending()).isEqualTo(1);
    loop.advance(49);
    assertThat(fired).hasValue(0);
    loop.advance(1);
    assertThat(fired).hasValue(1);
    assertThat(timer.pending()).isFalse();
    loop.advance(1_000);
    assertThat(fired).as("the superseded task never runs").hasValue(1);
  }

  @Test
  void a_cancelled_task_never_runs() {
    ask(loop.ticker.nanoTime() + 10);
    timer.cancel();
    assertThat(timer.pending()).isFalse();
    assertThat(loop.pending()).isZero();
    loop.advance(100);
    assertThat(fired).hasValue(0);
  }
}
