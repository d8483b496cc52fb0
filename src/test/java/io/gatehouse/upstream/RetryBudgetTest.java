package io.gatehouse.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class RetryBudgetTest {
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

  private static int retriesGranted(RetryBudget budget, long now, int asks) {
    int granted = 0;
    for (int i = 0; i < asks; i++) {
      if (budget.tryRetry(now)) {
        granted++;
      }
    }
    return granted;
  }

  @Test
  void aQuietClusterMayStillRetryTheMinimumPerSecond() {
    RetryBudget budget = new RetryBudget(0.2, 3, 10);
    long now = 5 * SECOND;
    for (int i = 0; i < 10; i++) {
      budget.onRequest(now);
    }
    // 20% of 10 is 2, but the floor is 3/s over the 10 s window.
    assertThat(retriesGranted(budget, now, 100)).isEqualTo(30);
    assertThat(budget.denied()).isEqualTo(70);
  }

  @Test
  void retriesAreCappedAtTheRatioOfRequests() {
    RetryBudget budget = new RetryBudget(0.2, 3, 10);
    long now = 5 * SECOND;
    for (int i = 0; i < 1000; i++) {
      budget.onRequest(now + i * (SECOND / 1000));
      // Every request fails and wants a retry: an outage must not double the load.
      budget.tryRetry(now + i * (SECOND / 1000));
    }
    assertThat(1000 - budget.denied()).isEqualTo(200);
  }

  @Test
  void theWindowSlides() {
    RetryBudget budget = new RetryBudget(0.2, 0, 2);
    long t0 = 100 * SECOND;
    for (int i = 0; i < 100; i++) {
      budget.onRequest(t0);
    }
    assertThat(retriesGranted(budget, t0, 50)).isEqualTo(20);
    // One second later the requests still count, and so do the retries.
    assertThat(retriesGranted(budget, t0 + SECOND, 50)).isZero();
    // Two seconds later both have left the window: nothing is allowed without new requests.
    assertThat(retriesGranted(budget, t0 + 2 * SECOND, 50)).isZero();
    for (int i = 0; i < 10; i++) {
      budget.onRequest(t0 + 2 * SECOND);
    }
    assertThat(retriesGranted(budget, t0 + 2 * SECOND, 50)).isEqualTo(2);
  }

  @Test
  void concurrentCallersNeverExceedTheBudgetByMuch() throws Exception {
    RetryBudget budget = new RetryBudget(0.1, 0, 10);
    long now = 7 * SECOND;
    for (int i = 0; i < 10_000; i++) {
      budget.onRequest(now);
    }
    AtomicInteger granted = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    CountDownLatch go = new CountDownLatch(1);
    try {
      for (int t = 0; t < 8; t++) {
        pool.submit(() -> {
          go.await();
          for (int i = 0; i < 1000; i++) {
            if (budget.tryRetry(now)) {
              granted.incrementAndGet();
            }
          }
          return null;
        });
      }
      go.countDown();
      pool.shutdown();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    } finally {
      pool.shutdownNow();
    }
    // Check-then-increment may let a few racing callers past; never many.
    assertThat(granted.get()).isBetween(1000, 1008);
  }

  @Test
  void rejectsNonsense() {
    assertThatThrownBy(() -> new RetryBudget(1.5, 3, 10)).hasMessageContaining("ratio: 1.5");
    assertThatThrownBy(() -> new RetryBudget(0.2, -1, 10)).hasMessageContaining("minPerSecond: -1");
    assertThatThrownBy(() -> new RetryBudget(0.2, 3, 0)).hasMessageContaining("windowSeconds: 0");
  }
}
