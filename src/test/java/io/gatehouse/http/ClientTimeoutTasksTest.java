package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.AbstractScheduledEventExecutor;
import io.netty.util.concurrent.DefaultPromise;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.concurrent.Ticker;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * How many tasks {@link ClientTimeoutHandler} puts in its event loop's queue: one per connection,
 * whatever deadlines it times. At 10k idle connections each task is heap (docs/benchmarks.md), and
 * a connection that makes one request and closes should schedule once.
 */
class ClientTimeoutTasksTest {
  private static final long IDLE = TimeUnit.SECONDS.toNanos(60);
  private static final long HEADER = TimeUnit.SECONDS.toNanos(10);
  private static final long RESPONSE = TimeUnit.SECONDS.toNanos(30);

  private final CountingLoop loop = new CountingLoop();
  private final ClientTimeoutHandler timeouts = new ClientTimeoutHandler(IDLE, HEADER, loop.ticker::nanoTime);
  private final EmbeddedChannel channel = new EmbeddedChannel();

  ClientTimeoutTasksTest() {
    // As an accepted connection sees it: the channel is active when the pipeline is built, and
    // its registration fires channelActive afterwards.
    channel.pipeline().addLast(loop, PipelineNames.CLIENT_TIMEOUTS, timeouts);
    channel.pipeline().fireChannelActive();
  }

  private void request() {
    channel.writeInbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\nHost: x\r\n\r\n", StandardCharsets.ISO_8859_1));
    timeouts.exchangeStarted(false);
    timeouts.arm(RESPONSE, () -> { });
    timeouts.disarm(); // the response head arrived
    timeouts.exchangeEnded();
    channel.releaseInbound();
  }

  @Test
  void a_connection_with_one_request_schedules_one_task() {
    request();
    assertThat(loop.scheduled).as("head and response deadlines come within the first task").isEqualTo(1);
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

  /** An executor for one handler: runs what it is given at once, and its scheduled tasks on demand. */
  private static final class CountingLoop extends AbstractScheduledEventExecutor {
    final MockTicker ticker = Ticker.newMockTicker();
    final List<ScheduledFuture<?>> tasks = new ArrayList<>();
    int scheduled;

    @Override
    public Ticker ticker() {
      return ticker;
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
      scheduled++;
      ScheduledFuture<?> task = super.schedule(command, delay, unit);
      tasks.add(task);
      return task;
    }

    long pending() {
      return tasks.stream().filter(t -> !t.isDone()).count();
    }

    void advance(long nanos) {
      ticker.advance(nanos, TimeUnit.NANOSECONDS);
      for (Runnable task = pollScheduledTask(); task != null; task = pollScheduledTask()) {
        task.run();
      }
    }

    @Override
    public void execute(Runnable command) {
      command.run();
    }

    @Override
    public boolean inEventLoop(Thread thread) {
      return true;
    }

    @Override
    public boolean isShuttingDown() {
      return false;
    }

    @Override
    public Future<?> shutdownGracefully(long quietPeriod, long timeout, TimeUnit unit) {
      return terminationFuture();
    }

    @Override
    public Future<?> terminationFuture() {
      return new DefaultPromise<Void>(ImmediateEventExecutor.INSTANCE);
    }

    @Override
    @Deprecated
    public void shutdown() {
    }

    @Override
    public boolean isShutdown() {
      return false;
    }

    @Override
    public boolean isTerminated() {
      return false;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return false;
    }
  }
}
