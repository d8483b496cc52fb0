package io.gatehouse.zerodowntime;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** What a {@link Scenario} acts on during one run, and what it records for the {@link Verdict}. */
final class Stage {
  private final ProxyDriver proxy;
  private final Origin blue;
  private final Origin green;
  private final Tally tally;
  private final Scenario.Timing timing;
  private final Map<String, Long> killed = new ConcurrentHashMap<>();
  private long stopNanos;
  private long drainNanos;
  private String notAvailable;

  Stage(ProxyDriver proxy, Origin blue, Origin green, Tally tally, Scenario.Timing timing) {
    this.proxy = proxy;
    this.blue = blue;
    this.green = green;
    this.tally = tally;
    this.timing = timing;
  }

  ProxyDriver proxy() {
    return proxy;
  }

  Origin blue() {
    return blue;
  }

  Origin green() {
    return green;
  }

  List<Origin> both() {
    return List.of(blue, green);
  }

  Scenario.Timing timing() {
    return timing;
  }

  /** Lets the load run on for {@code time}. */
  void steady(Duration time) throws InterruptedException {
    Thread.sleep(time.toMillis());
  }

  /** Waits until the clients get answers from {@code origin} (a switch has taken effect). */
  void awaitServedBy(String origin) throws InterruptedException {
    long since = System.nanoTime();
    if (!Processes.await(() -> tally.lastOkNanos(origin) > since, 30)) {
      throw new IllegalStateException("no request reached " + origin + " within 30 s");
    }
  }

  /**
   * Waits until {@code origin} has no HTTP exchange open and no client got an answer from it for a
   * second: the proxy has stopped sending to it and what was in flight there has finished.
   */
  void awaitDrained(Origin origin) throws InterruptedException {
    boolean drained = Processes.await(() -> {
      try {
        return System.nanoTime() - tally.lastOkNanos(origin.name) > 1_000_000_000L && origin.httpInFlight() == 0;
      } catch (IOException e) {
        return false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }, 60);
    if (!drained) {
      throw new IllegalStateException(origin.name + " still busy 60 s after its drain");
    }
  }

  /** {@code kill -9}; what is in flight on it from this instant on is the origin's, not the proxy's. */
  void kill(Origin origin) throws IOException, InterruptedException {
    killed.put(origin.name, System.nanoTime());
    origin.kill9();
  }

  /** The proxy's graceful stop; returns when all its processes have exited. */
  void stop() throws Exception {
    stopNanos = System.nanoTime();
    drainNanos = stopNanos;
    proxy.gracefulStop();
    if (!proxy.awaitExit(timing.drainTimeout().toSeconds() + 30)) {
      throw new IllegalStateException(proxy.name() + " did not exit after its graceful stop");
    }
  }

  /** The proxy's hand-off to a new process; the old one drains from this instant. */
  void handOff() throws Exception {
    drainNanos = System.nanoTime();
    String missing = proxy.handOff(both());
    if (missing != null) {
      notAvailable = missing;
    }
  }

  long drainNanos() {
    return drainNanos;
  }

  void notAvailable(String why) {
    notAvailable = why;
  }

  String notAvailable() {
    return notAvailable;
  }

  Map<String, Long> killed() {
    return Map.copyOf(killed);
  }

  long stopNanos() {
    return stopNanos;
  }
}
