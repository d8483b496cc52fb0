package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.fleet.FleetClient;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RedisServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The fleet's Redis link as a running instance sees it: up/down follows a real redis-server being
 * stopped and started, a start never waits for Redis longer than {@code fleet.timeout}, and an
 * instance without {@code fleet} has none of it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FleetLinkTest {
  private static final String CONFIG = """
      listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
      routes: [ { name: all, cluster: app } ]
      clusters: [ { name: app, endpoints: ["${A}"] } ]
      fleet: { redis: "${REDIS}", instance: a, password: "${PW}", timeout: 500ms }
      """;

  @Test
  void up_and_down_follow_redis_and_the_metric_says_so() throws Exception {
    try (RedisServer redis = RedisServer.start(); FakeUpstream a = FakeUpstream.start("a")) {
      redis.command("CONFIG", "SET", "requirepass", "pw-1");
      try (ProxyUnderTest proxy = ProxyUnderTest.start(CONFIG,
          Map.of("A", a.address(), "REDIS", redis.uri(), "PW", "pw-1"))) {
        FleetClient fleet = proxy.server().fleet();
        assertThat(fleet.instance()).isEqualTo("a");
        assertThat(fleet.key("overrides")).isEqualTo("gatehouse:{default}:overrides");
        await().atMost(Duration.ofSeconds(10)).until(() -> fleet.status().isUp());
        assertThat(fleet.call(r -> r.ping()).get(5, TimeUnit.SECONDS)).isEqualTo("PONG");
        assertThat(proxy.metrics().scrape()).contains("gatehouse_fleet_store_up 1");
        assertThat(adminGet(proxy, "/api/v1/config")).contains("<redacted>").doesNotContain("pw-1");

        redis.stop();
        await().atMost(Duration.ofSeconds(10)).until(() -> !fleet.status().isUp());
        assertThat(proxy.metrics().scrape()).contains("gatehouse_fleet_store_up 0");
        assertThat(fleet.call(r -> r.ping())).failsWithin(Duration.ofSeconds(5));
        assertThat(proxy.get("example.com", "/").status()).isEqualTo(200); // serving goes on

        redis.restart();
        redis.command("CONFIG", "SET", "requirepass", "pw-1");
        await().atMost(Duration.ofSeconds(15)).until(() -> fleet.status().isUp());
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
            assertThat(fleet.call(r -> r.ping()).get(5, TimeUnit.SECONDS)).isEqualTo("PONG"));
      }
    }
  }

  @Test
  void a_start_without_redis_goes_on_and_connects_when_redis_comes() throws Exception {
    try (RedisServer redis = RedisServer.start(); FakeUpstream a = FakeUpstream.start("a")) {
      redis.stop();
      try (ProxyUnderTest proxy = ProxyUnderTest.start(CONFIG,
          Map.of("A", a.address(), "REDIS", redis.uri(), "PW", "unused"))) {
        FleetClient fleet = proxy.server().fleet();
        assertThat(fleet.status().isUp()).isFalse();
        assertThat(proxy.get("example.com", "/").status()).isEqualTo(200);
        redis.restart();
        await().atMost(Duration.ofSeconds(15)).until(() -> fleet.status().isUp());
      }
    }
  }

  @Test
  void without_fleet_there_is_no_redis_link_and_no_fleet_metric() throws Exception {
    try (FakeUpstream a = FakeUpstream.start("a");
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: all, cluster: app } ]
            clusters: [ { name: app, endpoints: ["${A}"] } ]
            """, Map.of("A", a.address()))) {
      assertThat(proxy.server().fleet()).isNull();
      assertThat(proxy.metrics().scrape()).doesNotContain("gatehouse_fleet");
    }
  }

  static String adminGet(ProxyUnderTest proxy, String path) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + proxy.server().adminAddress().getPort() + path))
        .timeout(Duration.ofSeconds(10)).build();
    return ProxyUnderTest.httpClient().send(request, HttpResponse.BodyHandlers.ofString()).body();
  }
}
