package io.gatehouse.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The operators' one-minute figures: quantiles within a factor of two, old slots forgotten. */
class LatencyWindowTest {
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
  private static final long S = TimeUnit.SECONDS.toNanos(1);

  @Test
  void quantiles_and_error_rate_cover_the_last_minute_only() {
    LatencyWindow window = new LatencyWindow();
    long t0 = 1_000 * S;
    for (int i = 0; i < 98; i++) {
      window.record(t0, 3 * MS, false);
    }
    window.record(t0, 400 * MS, true);
    window.record(t0, 400 * MS, true);

    LatencyWindow.Figures now = window.figures(t0 + S);
    assertThat(now.requests()).isEqualTo(100);
    assertThat(now.errorRate()).isEqualTo(0.02);
    assertThat(now.p50Millis()).isBetween(3.0, 6.0);
    assertThat(now.p99Millis()).isBetween(400.0, 800.0);

    assertThat(window.figures(t0 + 50 * S).requests()).as("still within the minute").isEqualTo(100);
    assertThat(window.figures(t0 + 70 * S).requests()).as("a minute later: forgotten").isZero();

    window.record(t0 + 70 * S, 1 * MS, false);
    LatencyWindow.Figures later = window.figures(t0 + 70 * S);
    assertThat(later.requests()).as("a reused slot starts empty").isEqualTo(1);
    assertThat(later.errorRate()).isZero();
  }
}
