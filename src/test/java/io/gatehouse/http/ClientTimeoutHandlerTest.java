package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Idle and header timeouts with a controlled clock: no waiting. */
class ClientTimeoutHandlerTest {
  private static final long IDLE = TimeUnit.SECONDS.toNanos(60);
  private static final long HEADER = TimeUnit.SECONDS.toNanos(1);

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final List<Object> events = new ArrayList<>();
  private final ClientTimeouts timeouts = new ClientTimeouts(IDLE, HEADER, now::get);
  private final EmbeddedChannel channel = newChannel();

  private EmbeddedChannel newChannel() {
    EmbeddedChannel ch = new EmbeddedChannel(new ClientTimeoutHandler(timeouts), new ChannelInboundHandlerAdapter() {
      @Override
      public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        events.add(evt);
      }

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
      }
    });
    ch.freezeTime();
    return ch;
  }

  private void advance(long nanos) {
    now.addAndGet(nanos);
    channel.advanceTimeBy(nanos, TimeUnit.NANOSECONDS);
    channel.runScheduledPendingTasks();
  }

  private void receive(String bytes) {
    channel.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1));
  }

  @Test
  void slow_head_gets_the_header_timeout_not_the_idle_one() {
    advance(TimeUnit.SECONDS.toNanos(5)); // idle a while, well within the idle timeout
    receive("GET / HTTP/1.1\r\n");
    advance(HEADER - 1);
    assertThat(events).isEmpty();
    advance(2);
    assertThat(events).containsExactly(ClientTimeouts.HEADER_TIMEOUT);
    assertThat(channel.isOpen()).as("the proxy handler answers 408 and closes").isTrue();
    channel.finishAndReleaseAll();
  }

  @Test
  void idle_connection_closes_quietly() {
    advance(IDLE - 1);
    assertThat(channel.isOpen()).isTrue();
    advance(1);
    assertThat(channel.isOpen()).isFalse();
    assertThat(events).isEmpty();
  }

  @Test
  void an_idle_timeout_leaves_the_connection_expired_and_a_suspend_does_not_hide_that() {
    assertThat(timeouts.expired()).isFalse();
    timeouts.suspend(); // a hand-off's freeze: held, not expired
    assertThat(timeouts.expired()).isFalse();
    timeouts.resume();
    advance(IDLE);
    assertThat(timeouts.expired()).as("closing after its idle timeout: a hand-off must not move it").isTrue();
    timeouts.suspend();
    assertThat(timeouts.expired()).isTrue();
  }

  @Test
  void no_timeout_during_an_exchange_and_idle_again_after() {
    receive("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    timeouts.exchangeStarted(false);
    advance(IDLE * 3);
    assertThat(channel.isOpen()).isTrue();
    assertThat(events).isEmpty();
    timeouts.exchangeEnded();
    advance(IDLE - 1);
    assertThat(channel.isOpen()).isTrue();
    advance(1);
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void header_timeout_of_the_second_request_counts_from_its_first_byte() {
    receive("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    timeouts.exchangeStarted(false);
    timeouts.exchangeEnded();
    advance(TimeUnit.SECONDS.toNanos(30));
    receive("GET /2 HTTP/1.1\r\n");
    advance(HEADER / 2);
    assertThat(events).isEmpty();
    advance(HEADER / 2);
    assertThat(events).containsExactly(ClientTimeouts.HEADER_TIMEOUT);
    channel.finishAndReleaseAll();
  }

  @Test
  void stalled_body_read_fires_the_body_timeout() {
    receive("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    timeouts.exchangeStarted(true);
    advance(IDLE * 2); // no read asked for: the proxy holds back (backpressure), no timeout
    assertThat(events).isEmpty();
    channel.read();
    advance(IDLE / 2);
    receive("def"); // progress resets the wait
    channel.read();
    advance(IDLE - 1);
    assertThat(events).isEmpty();
    advance(1);
    assertThat(events).containsExactly(ClientTimeouts.BODY_TIMEOUT);
    channel.finishAndReleaseAll();
  }

  private static final long WINDOW = TimeUnit.SECONDS.toNanos(20);

  /** A handler with minimum rates of 1 KiB/s each way over a 20 s window. */
  private EmbeddedChannel rated(ClientTimeouts timeouts) {
    EmbeddedChannel ch = new EmbeddedChannel(new ClientTimeoutHandler(timeouts), new ChannelInboundHandlerAdapter() {
      @Override
      public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        events.add(evt);
      }

      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg);
      }
    });
    ch.config().setAutoRead(false); // as in production: the proxy asks for each read
    ch.freezeTime();
    return ch;
  }

  private static void advance(EmbeddedChannel ch, AtomicLong clock, long nanos) {
    clock.addAndGet(nanos);
    ch.advanceTimeBy(nanos, TimeUnit.NANOSECONDS);
    ch.runScheduledPendingTasks();
  }

  @Test
  void body_trickling_below_the_minimum_rate_is_cut_after_one_window() {
    ClientTimeouts rated = new ClientTimeouts(IDLE, HEADER, 1024, 1024, WINDOW, now::get);
    EmbeddedChannel ch = rated(rated);
    ch.writeInbound(Unpooled.copiedBuffer("POST / HTTP/1.1\r\nContent-Length: 100000\r\n\r\n", StandardCharsets.ISO_8859_1));
    rated.exchangeStarted(true);
    for (int i = 0; i < 3; i++) { // one byte every 5 s: never near the idle timeout (R.U.D.Y.)
      ch.read();
      advance(ch, now, TimeUnit.SECONDS.toNanos(5));
      ch.writeInbound(Unpooled.copiedBuffer("x", StandardCharsets.ISO_8859_1));
    }
    assertThat(events).isEmpty();
    ch.read();
    advance(ch, now, TimeUnit.SECONDS.toNanos(5));
    assertThat(events).containsExactly(ClientTimeouts.CLIENT_TOO_SLOW);
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void body_at_the_minimum_rate_passes_and_backpressure_does_not_count() {
    ClientTimeouts rated = new ClientTimeouts(IDLE, HEADER, 1024, 1024, WINDOW, now::get);
    EmbeddedChannel ch = rated(rated);
    ch.writeInbound(Unpooled.copiedBuffer("POST / HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n", StandardCharsets.ISO_8859_1));
    rated.exchangeStarted(true);
    for (int i = 0; i < 20; i++) { // 3 KiB every 2 s, for 40 s of waiting
      ch.read();
      advance(ch, now, TimeUnit.SECONDS.toNanos(2));
      ch.writeInbound(Unpooled.wrappedBuffer(new byte[3072]));
      advance(ch, now, TimeUnit.SECONDS.toNanos(30)); // no read asked: the proxy holds back, not timed
    }
    assertThat(events).isEmpty();
    rated.bodyComplete();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void response_not_taken_is_cut_after_one_window_not_the_idle_timeout() {
    ClientTimeouts rated = new ClientTimeouts(IDLE, HEADER, 1024, 1024, WINDOW, now::get);
    EmbeddedChannel ch = rated(rated);
    ch.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\n\r\n", StandardCharsets.ISO_8859_1));
    rated.exchangeStarted(false);
    ch.write(Unpooled.wrappedBuffer(new byte[128 * 1024])); // past the high water mark, never flushed
    assertThat(ch.isWritable()).isFalse();
    advance(ch, now, WINDOW - 1);
    assertThat(events).isEmpty();
    advance(ch, now, 1);
    assertThat(events).containsExactly(ClientTimeouts.CLIENT_TOO_SLOW);
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void response_taken_in_time_is_not_cut() {
    ClientTimeouts rated = new ClientTimeouts(IDLE, HEADER, 1024, 1024, WINDOW, now::get);
    EmbeddedChannel ch = rated(rated);
    ch.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\n\r\n", StandardCharsets.ISO_8859_1));
    rated.exchangeStarted(false);
    for (int i = 0; i < 5; i++) {
      ch.write(Unpooled.wrappedBuffer(new byte[128 * 1024]));
      assertThat(ch.isWritable()).isFalse();
      advance(ch, now, WINDOW / 2);
      ch.flush(); // the client took all of it
      ReferenceCountUtil.release(ch.readOutbound());
    }
    advance(ch, now, WINDOW * 2);
    assertThat(events).isEmpty();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  /** A pending timer holds the whole connection: a closed connection must not leave one behind. */
  @Test
  void closing_the_connection_cancels_its_timer() {
    assertThat(channel.runScheduledPendingTasks()).as("the idle timer is scheduled").isNotEqualTo(-1);
    channel.close();
    assertThat(channel.runScheduledPendingTasks()).as("no task left after close").isEqualTo(-1);
  }
}
