package io.gatehouse.testing;

import io.netty.util.concurrent.AbstractScheduledEventExecutor;
import io.netty.util.concurrent.DefaultPromise;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.MockTicker;
import io.netty.util.concurrent.ScheduledFuture;
import io.netty.util.concurrent.Ticker;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * An executor for a handler under test: runs what it is given at once, its scheduled tasks on
 * demand ({@link #advance}, on a mock clock), and counts what is scheduled: how many tasks a
 * handler puts in an event loop's queue is a cost tests can see.
 */
public final class CountingLoop extends AbstractScheduledEventExecutor {
  public final MockTicker ticker = Ticker.newMockTicker();
  public final List<ScheduledFuture<?>> tasks = new ArrayList<>();
  public int scheduled;

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

  public long pending() {
    return tasks.stream().filter(t -> !t.isDone()).count();
  }

  public void advance(long nanos) {
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
