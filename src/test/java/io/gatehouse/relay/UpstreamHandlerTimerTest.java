package io.gatehouse.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.CountingLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The response deadline an upstream connection times for the request in flight
 * ({@link UpstreamHandler#arm}), on a mock clock: it runs once, at its time, unless disarmed; and a
 * keep-alive connection serves request after request with the same task, so arming per request
 * costs no scheduling.
 */
class UpstreamHandlerTimerTest {
  private static final long TIMEOUT = TimeUnit.SECONDS.toNanos(30);

  private final CountingLoop loop = new CountingLoop();
  private final UpstreamHandler handler = new UpstreamHandler();
  private final EmbeddedChannel channel = new EmbeddedChannel();
  private final List<String> expired = new ArrayList<>();

  UpstreamHandlerTimerTest() {
    channel.pipeline().addLast(loop, handler);
  }

  @Test
  void the_deadline_runs_once_at_its_time_unless_disarmed() {
    handler.arm(TIMEOUT, () -> expired.add("first"));
    loop.advance(TIMEOUT - 1);
    assertThat(expired).isEmpty();
    loop.advance(1);
    assertThat(expired).containsExactly("first");
    handler.arm(TIMEOUT, () -> expired.add("second"));
    handler.disarm();
    loop.advance(TIMEOUT * 3);
    assertThat(expired).containsExactly("first");
    assertThat(loop.pending()).as("a disarmed connection keeps no task").isZero();
  }

  @Test
  void a_keep_alive_connection_times_request_after_request_with_one_task() {
    long perRequest = TimeUnit.MILLISECONDS.toNanos(3);
    for (int i = 0; i < 100_000; i++) { // 300 s of requests, 10 timeouts' worth
      handler.arm(TIMEOUT, () -> expired.add("late"));
      loop.advance(perRequest);
      handler.disarm();
    }
    assertThat(expired).isEmpty();
    assertThat(loop.scheduled).as("one move per timeout's length, not one task per request").isLessThanOrEqualTo(11);
    assertThat(loop.pending()).isLessThanOrEqualTo(1);
  }

  @Test
  void a_later_deadline_is_reached_by_moving_the_task() {
    handler.arm(TIMEOUT, () -> expired.add("first"));
    loop.advance(TIMEOUT / 2);
    handler.disarm();
    handler.arm(TIMEOUT, () -> expired.add("second")); // due at 1.5 x TIMEOUT: the task fires first
    loop.advance(TIMEOUT / 2);
    assertThat(expired).isEmpty();
    loop.advance(TIMEOUT / 2 - 1);
    assertThat(expired).isEmpty();
    loop.advance(1);
    assertThat(expired).containsExactly("second");
  }

  @Test
  void an_earlier_deadline_replaces_the_pending_task() {
    handler.arm(TIMEOUT, () -> expired.add("long"));
    handler.disarm();
    handler.arm(TIMEOUT / 10, () -> expired.add("short"));
    loop.advance(TIMEOUT / 10);
    assertThat(expired).containsExactly("short");
    assertThat(loop.pending()).isZero();
  }

  /** A pending task holds the connection: a closed connection must not leave one behind. */
  @Test
  void closing_the_connection_drops_the_deadline_and_its_task() {
    handler.arm(TIMEOUT, () -> expired.add("response"));
    channel.close();
    assertThat(loop.pending()).isZero();
    loop.advance(TIMEOUT * 2);
    assertThat(expired).isEmpty();
  }
}
