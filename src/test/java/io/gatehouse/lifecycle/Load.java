package io.gatehouse.lifecycle;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * A bounded concurrent load from a real client: {@code java.net.http.HttpClient} (HTTP/1.1, keep-alive)
 * on a fixed pool of threads, each sending requests one after another until {@code total} are sent.
 * Every request has a timeout, so a test using it always ends.
 */
final class Load implements AutoCloseable {
  /** One finished request: status (0 when it failed at the transport level) and who answered. */
  record Result(int index, int status, String upstream, long nanos, String error) {}

  private final ExecutorService threads;
  private final HttpClient client;
  private final ExecutorService clientThreads;
  private final int concurrency;

  Load(int concurrency) {
    this.concurrency = concurrency;
    this.threads = Executors.newFixedThreadPool(concurrency + 1);
    this.clientThreads = Executors.newFixedThreadPool(4, r -> {
      Thread t = new Thread(r, "load-client");
      t.setDaemon(true);
      return t;
    });
    this.client = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .executor(clientThreads)
        .build();
  }

  /** One request on the calling thread. */
  Result get(InetSocketAddress proxy, String path, Duration timeout) {
    return send(proxy, path, timeout, -1);
  }

  /**
   * Sends {@code total} GETs of {@code path}, {@code concurrency} at a time; {@code onDone} sees
   * how many have finished after each one (to act mid-load). Returns every result.
   */
  List<Result> run(InetSocketAddress proxy, String path, int total, Duration timeout, IntConsumer onDone)
      throws Exception {
    AtomicInteger next = new AtomicInteger();
    AtomicInteger finished = new AtomicInteger();
    List<Result> results = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Future<?>> workers = new ArrayList<>();
    for (int t = 0; t < concurrency; t++) {
      workers.add(threads.submit(() -> {
        int i;
        while ((i = next.getAndIncrement()) < total) {
          results.add(send(proxy, path, timeout, i));
          onDone.accept(finished.incrementAndGet());
        }
        return null;
      }));
    }
    for (Future<?> w : workers) {
      w.get(2, TimeUnit.MINUTES);
    }
    return new ArrayList<>(results);
  }

  /** Starts {@code n} requests at once in the background. */
  List<Future<Result>> start(InetSocketAddress proxy, String path, int n, Duration timeout) {
    List<Future<Result>> futures = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int index = i;
      futures.add(threads.submit(() -> send(proxy, path, timeout, index)));
    }
    return futures;
  }

  static Map<String, Integer> byUpstream(List<Result> results) {
    Map<String, Integer> counts = new ConcurrentHashMap<>();
    for (Result r : results) {
      counts.merge(String.valueOf(r.upstream()), 1, Integer::sum);
    }
    return counts;
  }

  static Map<Integer, Integer> byStatus(List<Result> results) {
    Map<Integer, Integer> counts = new java.util.TreeMap<>();
    for (Result r : results) {
      counts.merge(r.status(), 1, Integer::sum);
    }
    return counts;
  }

  private Result send(InetSocketAddress proxy, String path, Duration timeout, int index) {
    HttpRequest request = HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + proxy.getPort() + path))
        .timeout(timeout)
        .GET()
        .build();
    long start = System.nanoTime();
    try {
      HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
      return new Result(index, response.statusCode(), response.headers().firstValue("X-Upstream").orElse(null),
          System.nanoTime() - start, null);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return new Result(index, 0, null, System.nanoTime() - start, e.toString());
    }
  }

  @Override
  public void close() {
    threads.shutdownNow();
    clientThreads.shutdownNow();
  }
}
