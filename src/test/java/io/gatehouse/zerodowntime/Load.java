package io.gatehouse.zerodowntime;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A running {@link LoadPlan} against a proxy's port: one thread per client. {@link #stop()} lets
 * every client finish what it is doing (the request, the download, the last echo) and returns
 * when all have; the plan's {@code maxDuration} stops it by itself.
 */
final class Load {
  static final long FAILURE_BACKOFF_MILLIS = 50;

  private final Control control;
  private final List<Thread> threads = new ArrayList<>();
  private final LoadPlan plan;

  private Load(LoadPlan plan, Control control) {
    this.plan = plan;
    this.control = control;
  }

  static Load start(int port, LoadPlan plan, Tally tally) {
    Load load = new Load(plan, new Control(System.nanoTime() + plan.maxDuration().toNanos()));
    HttpClient webSocketClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    for (int i = 0; i < plan.httpClients(); i++) {
      load.spawn("http-" + i, new HttpClientLoop(port, tally, load.control, plan.requestPause().toMillis()));
    }
    for (int i = 0; i < plan.webSockets(); i++) {
      load.spawn("ws-" + i, new WebSocketLoop(webSocketClient, port, tally, load.control));
    }
    for (int i = 0; i < plan.downloads(); i++) {
      load.spawn("download-" + i, new DownloadLoop(port, tally, load.control, plan.downloadBytes(),
          plan.downloadTime().toMillis()));
    }
    return load;
  }

  private void spawn(String name, Runnable client) {
    Thread thread = new Thread(client, "zd-" + name);
    thread.setDaemon(true);
    threads.add(thread);
    thread.start();
  }

  /** Stops every client after its current exchange; waits for them (bounded). */
  void stop() throws InterruptedException {
    control.stop();
    long deadline = System.nanoTime() + plan.downloadTime().multipliedBy(3).plusSeconds(20).toNanos();
    for (Thread thread : threads) {
      thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
    }
    for (Thread thread : threads) {
      if (thread.isAlive()) {
        thread.interrupt();
        throw new IllegalStateException(thread.getName() + " did not finish after stop");
      }
    }
  }

  /** Shared by the clients of one load: whether to go on, and a pause that ends early on stop. */
  static final class Control {
    private final long deadlineNanos;
    private final CountDownLatch stopped = new CountDownLatch(1);

    Control(long deadlineNanos) {
      this.deadlineNanos = deadlineNanos;
    }

    boolean running() {
      return stopped.getCount() > 0 && System.nanoTime() < deadlineNanos;
    }

    void pause(long millis) throws InterruptedException {
      if (millis > 0) {
        stopped.await(millis, TimeUnit.MILLISECONDS);
      }
    }

    void stop() {
      stopped.countDown();
    }
  }
}
