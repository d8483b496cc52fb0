package io.gatehouse.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LazyTimerTest {
  private final AtomicLong now = new AtomicLong(1_000);
  private final EmbeddedChannel channel = new EmbeddedChannel();
  private final LazyTimer timer = new LazyTimer(channel.eventLoop(), now::get);
  private final AtomicInteger fired = new AtomicInteger();

  LazyTimerTest() {
    channel.freezeTime();
  }

  private void advance(long nanos) {
    now.addAndGet(nanos);
    channel.advanceTimeBy(nanos, TimeUnit.NANOSECONDS);
    channel.runScheduledPendingTasks();
  }

  @Test
  void firesAfterTheTimeoutUnlessDisarmed() {
    timer.arm(100, fired::incrementAndGet);
    advance(99);
    assertThat(fired).hasValue(0);
    advance(1);
    assertThat(fired).hasValue(1);
    timer.arm(100, fired::incrementAndGet);
    timer.disarm();
    advance(200);
    assertThat(fired).hasValue(1);
  }

  @Test
  void rearmingMovesTheDeadlineWithoutANewTaskPerRequest() {
    timer.arm(100, fired::incrementAndGet);
    advance(60);
    timer.disarm();
    timer.arm(100, fired::incrementAndGet); // a new request: deadline now at 160
    advance(40); // the first task fires at 100 and moves itself to 160
    assertThat(fired).hasValue(0);
    advance(60);
    assertThat(fired).hasValue(1);
  }

  @Test
  void anEarlierDeadlineSupersedesTheScheduledOne() {
    timer.arm(1_000, fired::incrementAndGet);
    timer.disarm();
    timer.arm(10, fired::incrementAndGet);
    advance(10);
    assertThat(fired).hasValue(1);
  }

  @Test
  void cancelLeavesNoTaskBehind() {
    timer.arm(1_000, fired::incrementAndGet);
    timer.cancel();
    assertThat(channel.runScheduledPendingTasks()).isEqualTo(-1);
    advance(2_000);
    assertThat(fired).hasValue(0);
    channel.finishAndReleaseAll();
  }
}
