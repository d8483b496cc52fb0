package io.gatehouse.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RedisServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code gatehouse status} of a fleet member: the fleet block, Redis up then down. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FleetStatusTest {
  @Test
  void status_shows_the_fleet_block() throws Exception {
    try (RedisServer redis = RedisServer.start();
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: r, cluster: c } ]
            clusters: [ { name: c, endpoints: [ "127.0.0.1:9" ] } ]
            fleet: { redis: "${REDIS}", instance: gh-a, name: shop }
            """, Map.of("REDIS", redis.uri()))) {
      String admin = "127.0.0.1:" + proxy.server().adminAddress().getPort();
      await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
        String out = status(admin);
        assertThat(out).contains("fleet shop: instance gh-a, redis up since ").contains("INSTANCE").contains("LAST-HEARTBEAT");
        assertThat(out.lines().filter(l -> l.startsWith("gh-a ")).findFirst()).hasValueSatisfying(l ->
            assertThat(l).contains("yes").contains(admin));
      });
      redis.stop();
      await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
          assertThat(status(admin)).contains("fleet shop: instance gh-a, redis down since "));
    }
  }

  @Test
  void status_says_a_deployment_waits_for_the_store_while_redis_is_down() throws Exception {
    try (RedisServer redis = RedisServer.start();
        io.gatehouse.testing.FakeUpstream blue = io.gatehouse.testing.FakeUpstream.start("blue");
        io.gatehouse.testing.FakeUpstream green = io.gatehouse.testing.FakeUpstream.start("green");
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: r, backends: [ { cluster: blue, weight: 100 }, { cluster: green, weight: 0 } ] } ]
            clusters: [ { name: blue, endpoints: [ "${BLUE}" ] }, { name: green, endpoints: [ "${GREEN}" ] } ]
            fleet: { redis: "${REDIS}", instance: gh-a, timeout: 1s }
            """, Map.of("REDIS", redis.uri(), "BLUE", blue.address(), "GREEN", green.address()))) {
      String admin = "127.0.0.1:" + proxy.server().adminAddress().getPort();
      await().atMost(Duration.ofSeconds(15)).until(() -> proxy.server().fleet().status().isUp());
      assertThat(Main.execute("deploy", "r", "--to", "green", "--steps", "50,100", "--interval", "1s", "--admin", admin))
          .isZero();
      redis.stop();
      await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
        proxy.get("example.com", "/");
        assertThat(status(admin).lines().filter(l -> l.startsWith("r-")).findFirst()).hasValueSatisfying(l ->
            assertThat(l).contains("progressing, waiting for the store since ").contains("1/2 (50%)"));
      });
    }
  }

  @Test
  void status_without_a_fleet_has_no_fleet_block() throws Exception {
    try (ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: r, cluster: c } ]
            clusters: [ { name: c, endpoints: [ "127.0.0.1:9" ] } ]
            """)) {
      String out = status("127.0.0.1:" + proxy.server().adminAddress().getPort());
      assertThat(out).contains("CLUSTER").doesNotContain("fleet");
    }
  }

  private static String status(String admin) {
    PrintStream old = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      assertThat(Main.execute("status", "--admin", admin)).isZero();
      return out.toString(StandardCharsets.UTF_8);
    } finally {
      System.setOut(old);
    }
  }
}
