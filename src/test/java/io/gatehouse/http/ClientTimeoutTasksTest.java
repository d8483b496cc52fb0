package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.gatehouse.testing.CountingLoop;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * How many tasks {@link ClientTimeouts} put in its event loop's queue: one per connection,
 * whatever deadlines it times. At 10k idle connections each task is heap (docs/benchmarks.md), and
 * a connection that makes one request and closes should schedule once; an HTTP/2 stream, which
 * carries one request, schedules only while it waits for its client.
 */
class ClientTimeoutTasksTest {
  private static final long IDLE = TimeUnit.SECONDS.toNanos(60);
  private static final long HEADER = TimeUnit.SECONDS.toNanos(10);

  private final CountingLoop loop = new CountingLoop();
  private final ClientTimeouts timeouts = new ClientTimeouts(IDLE, HEADER, loop.ticker::nanoTime);
  private final EmbeddedChannel channel = new EmbeddedChannel();

  ClientTimeoutTasksTest() {
    // As an accepted connection sees it: the channel is active when the pipeline is built, and
    // its registration fires channelActive afterwards.
    channel.pipeline().addLast(loop, PipelineNames.CLIENT_TIMEOUTS, new ClientTimeoutHandler(timeouts));
    channel.pipeline().fireChannelActive();
  }

  private void request() {
    channel.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\nHost: x\r\n\r\n", StandardCharsets.ISO_8859_1));
    timeouts.exchangeStarted(false);
    timeouts.exchangeEnded();
    channel.releaseInbound();
  }

  @Test
  void a_connection_with_one_request_schedules_one_task() {
    request();
    assertThat(loop.scheduled).as("the head's deadline comes within the first task").isEqualTo(1);
    channel.close();
    assertThat(loop.pending()).isZero();
  }

  @Test
  void an_idle_keep_alive_connection_holds_one_task_and_closes_at_its_idle_deadline() {
    request();
    loop.advance(HEADER); // the first task finds the idle deadline later and moves itself
    request();
    loop.advance(HEADER);
    assertThat(loop.pending()).isEqualTo(1);
    loop.advance(IDLE - HEADER - 1);
    assertThat(channel.isOpen()).isTrue();
    loop.advance(1);
    assertThat(channel.isOpen()).isFalse();
    assertThat(loop.pending()).isZero();
  }

  @Test
  void an_http2_stream_whose_request_has_no_body_schedules_no_task() {
    CountingLoop streamLoop = new CountingLoop();
    ClientTimeouts streamTimeouts = new ClientTimeouts(IDLE, HEADER, streamLoop.ticker::nanoTime);
    java.util.List<Object> events = new java.util.ArrayList<>();
    streamTimeouts.attachStream(streamLoop, () -> true, events::add, () -> 0);
    streamTimeouts.received(new Object()); // its head, whole
    streamTimeouts.exchangeStarted(false);
    streamTimeouts.exchangeEnded();
    assertThat(streamLoop.scheduled).isZero();
    streamLoop.advance(IDLE * 2);
    assertThat(events).as("the connection's idle time is not a stream's").isEmpty();
  }

  @Test
  void an_http2_stream_waiting_for_its_body_is_timed() {
    CountingLoop streamLoop = new CountingLoop();
    ClientTimeouts streamTimeouts = new ClientTimeouts(IDLE, HEADER, streamLoop.ticker::nanoTime);
    java.util.List<Object> events = new java.util.ArrayList<>();
    streamTimeouts.attachStream(streamLoop, () -> true, events::add, () -> 0);
    streamTimeouts.received(new Object()); // its head
    streamTimeouts.exchangeStarted(true);
    streamTimeouts.readAsked(); // the proxy asks for the body
    assertThat(streamLoop.scheduled).isEqualTo(1);
    streamLoop.advance(IDLE - 1);
    assertThat(events).isEmpty();
    streamLoop.advance(1);
    assertThat(events).containsExactly(ClientTimeouts.BODY_TIMEOUT);
  }
}
