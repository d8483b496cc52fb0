package io.gatehouse.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProxyMetricsTest {

  @Test
  void everyLabelSetCountsApartAcrossTableGrowth() {
    ProxyMetrics metrics = new ProxyMetrics(false);
    // 200 label sets: the per-thread table starts at 64 slots and doubles twice on the way.
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < 200; i++) {
        metrics.exchange("l" + (i % 3), "r" + i, "c" + (i % 7), 200 + (i % 5), 1_000_000, 500_000);
      }
    }
    for (int i = 0; i < 200; i++) {
      assertThat(metrics.requests("l" + (i % 3), "r" + i, "c" + (i % 7), 200 + (i % 5))).as("set %d", i).isEqualTo(3);
    }
    assertThat(metrics.requests("l0", "r0", "c0", 201)).isZero();
  }

  @Test
  void equalLabelsOfOtherStringInstancesAreTheSameSet() {
    ProxyMetrics metrics = new ProxyMetrics(false);
    metrics.exchange(new String("web"), new String("api"), new String("blue"), 200, 1, 0);
    metrics.exchange(new String("web"), new String("api"), new String("blue"), 200, 1, 0);
    assertThat(metrics.requests("web", "api", "blue", 200)).isEqualTo(2);
  }

  @Test
  void threadsShareTheDataPoints() throws InterruptedException {
    ProxyMetrics metrics = new ProxyMetrics(false);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      Thread thread = new Thread(() -> {
        for (int i = 0; i < 10_000; i++) {
          metrics.exchange("web", "api", "blue", i % 2 == 0 ? 200 : 503, 1_000, 1_000);
        }
      });
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join();
    }
    assertThat(metrics.requests("web", "api", "blue", 200)).isEqualTo(20_000);
    assertThat(metrics.requests("web", "api", "blue", 503)).isEqualTo(20_000);
  }

  @Test
  void durationsGoToTheListenerAndTheClusterHistograms() {
    ProxyMetrics metrics = new ProxyMetrics(false);
    metrics.exchange("web", "api", "blue", 200, 2_000_000, 1_000_000); // 2 ms, 1 ms upstream
    metrics.exchange("web", "", "", 404, 3_000_000, 0); // no route, no cluster: no upstream time
    metrics.exchange("web", "api", "blue", 0, 4_000_000, 0); // cut before any status: code "none"
    String text = metrics.scrape();
    assertThat(text).contains("gatehouse_request_duration_seconds_count{listener=\"web\"} 3");
    assertThat(text).contains("gatehouse_upstream_duration_seconds_count{cluster=\"blue\"} 1");
    assertThat(text).doesNotContain("gatehouse_upstream_duration_seconds_count{cluster=\"\"}");
    assertThat(text).contains("gatehouse_requests_total{cluster=\"\",code=\"404\",listener=\"web\",route=\"\"} 1");
    assertThat(text).contains("gatehouse_requests_total{cluster=\"blue\",code=\"none\",listener=\"web\",route=\"api\"} 1");
  }
}
