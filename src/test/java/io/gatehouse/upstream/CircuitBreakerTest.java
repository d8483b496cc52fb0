package io.gatehouse.upstream;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CircuitBreakerTest {
  @Test
  void admitsUpToTheLimitThenRefuses() {
    CircuitBreaker breaker = new CircuitBreaker(2);
    assertThat(breaker.tryAcquire()).isTrue();
    assertThat(breaker.tryAcquire()).isTrue();
    assertThat(breaker.tryAcquire()).isFalse();
    breaker.release();
    assertThat(breaker.tryAcquire()).isTrue();
    assertThat(breaker.inFlight()).isEqualTo(2);
  }

  @Test
  void zeroMeansNoLimitAndTheCountSurvivesALimitChange() {
    CircuitBreaker breaker = new CircuitBreaker(0);
    for (int i = 0; i < 1000; i++) {
      assertThat(breaker.tryAcquire()).isTrue();
    }
    breaker.setMaxInFlight(999);
    assertThat(breaker.tryAcquire()).isFalse();
    breaker.release();
    breaker.release();
    assertThat(breaker.tryAcquire()).isTrue();
  }
}
