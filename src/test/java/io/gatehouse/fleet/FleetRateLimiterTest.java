package io.gatehouse.fleet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.config.FleetConfig;
import io.gatehouse.config.RateLimitConfig;
import io.gatehouse.metrics.ProxyMetrics;
import io.gatehouse.ratelimit.Verdict;
import io.gatehouse.testing.RedisServer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The lease scheme of one instance against a real redis-server, on a clock the test moves. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FleetRateLimiterTest {

  @Test
  void permits_of_a_key_left_idle_go_back_to_redis() throws Exception {
    try (RedisServer redis = RedisServer.start();
        FleetClient fleet = FleetClient.start(new FleetConfig(new FleetConfig.RedisAddress(false, "127.0.0.1",
            redis.port(), 0), null, null, "a", "t", Duration.ofSeconds(1), Duration.ofSeconds(5), 1, null))) {
      assertThat(fleet.awaitUp(Duration.ofSeconds(10))).isTrue();
      AtomicLong clock = new AtomicLong(1_000_000_000L);
      // A limit far above the loop's pace on Redis's (real) clock: leases ask ahead of demand, and
      // at 100/s the fleet's bucket could run dry when the loop runs fast, turning a wait into a
      // refusal or a second wait. Here every request must be admitted.
      RateLimitConfig config = new RateLimitConfig("route", 10_000, 10_000, RateLimitConfig.Scope.FLEET,
          RateLimitConfig.StoreDown.DENY, Duration.ofSeconds(5));
      FleetRateLimiter limiter = new FleetRateLimiter(fleet, "api", config, FleetSize.fixed(1), new StoreModes(new ProxyMetrics(false)),
          clock::get);
      String bucket = "gatehouse:{t}:ratelimit:api:k";

      // Requests at 200/s of this clock: the leases follow, and the instance holds permits ahead.
      for (int i = 0; i < 100; i++) {
        assertThat(settled(limiter.decide("k", clock.addAndGet(5_000_000)))).isEqualTo(Verdict.ADMIT);
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> limiter.permitsInHand("k") > 0);
      assertThat(redis.command("EXISTS", bucket)).isEqualTo("1");
      String tatBefore = redis.command("GET", bucket);

      clock.addAndGet(TimeUnit.SECONDS.toNanos(2)); // the key's traffic stopped
      limiter.returnIdle();
      assertThat(limiter.permitsInHand("k")).isZero();
      // The bucket's time moved back by the permits returned (or the bucket is full again: gone).
      await().atMost(Duration.ofSeconds(10)).until(() -> {
        String tat = redis.command("GET", bucket);
        return "null".equals(tat) || Long.parseLong(tat) < Long.parseLong(tatBefore);
      });
    }
  }

  /** The verdict once the store replied: a reply may find the permits gone and wait again. */
  private static Verdict settled(Verdict verdict) throws Exception {
    while (verdict instanceof Verdict.Pending p) {
      verdict = p.later().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    return verdict;
  }
}
