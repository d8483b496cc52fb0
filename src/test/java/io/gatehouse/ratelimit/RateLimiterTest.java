package io.gatehouse.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RateLimiterTest {
  private static final long SECOND = 1_000_000_000L;

  @Test
  void allowsBurstThenSustainedRate() {
    RateLimiter limiter = new RateLimiter(10, 5);
    long now = 1_000 * SECOND;
    for (int i = 0; i < 5; i++) {
      assertThat(limiter.acquire("a", now)).as("burst request %d", i).isZero();
    }
    long wait = limiter.acquire("a", now);
    assertThat(wait).isPositive().isLessThanOrEqualTo(SECOND / 10);
    assertThat(limiter.acquire("a", now + wait)).isZero();
    assertThat(limiter.acquire("a", now + wait)).isPositive();
  }

  @Test
  void averagesToTheConfiguredRateOverTime() {
    RateLimiter limiter = new RateLimiter(50, 10);
    long now = 0;
    int allowed = 0;
    for (int ms = 0; ms < 10_000; ms++) { // 10 s, one attempt per millisecond
      if (limiter.acquire("k", now + ms * 1_000_000L) == 0) {
        allowed++;
      }
    }
    assertThat(allowed).isBetween(500, 511); // 50/s for 10 s plus the initial burst
  }

  @Test
  void keysAreIndependent() {
    RateLimiter limiter = new RateLimiter(1, 1);
    assertThat(limiter.acquire("a", 0)).isZero();
    assertThat(limiter.acquire("a", 0)).isPositive();
    assertThat(limiter.acquire("b", 0)).isZero();
  }

  @Test
  void rejectsNonsense() {
    assertThatThrownBy(() -> new RateLimiter(0, 1)).hasMessageContaining("expected");
    assertThatThrownBy(() -> new RateLimiter(1, 0)).hasMessageContaining("expected");
  }
}
