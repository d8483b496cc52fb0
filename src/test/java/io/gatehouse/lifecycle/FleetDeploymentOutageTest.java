package io.gatehouse.lifecycle;

import static io.gatehouse.lifecycle.FleetTest.admin;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RedisServer;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A fleet's deployments while Redis is away: a step that falls due while Redis is down is held
 * (not failed) and taken once Redis is back, even a Redis restarted empty; and while Redis is
 * frozen (SIGSTOP: connections open, every command waits), the admin reads and the metrics answer
 * from memory instead of waiting for it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FleetDeploymentOutageTest {
  private static final String CONFIG = """
      listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
      routes: [ { name: all, backends: [ { cluster: blue, weight: 100 }, { cluster: green, weight: 0 } ] } ]
      clusters:
        - { name: blue, endpoints: ["${E1}"] }
        - { name: green, endpoints: ["${E3}"] }
      fleet: { redis: "${REDIS}", instance: "${NAME}", timeout: "${TIMEOUT}" }
      """;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SLO =
      ",\"slo\":{\"minRequests\":1,\"maxErrorRate\":0.5,\"maxP99\":\"5s\",\"vsBaseline\":false}}";

  private RedisServer redis;
  private FakeUpstream e1;
  private FakeUpstream e3;
  private final List<ProxyUnderTest> fleet = new ArrayList<>();

  private void start(String timeout) throws Exception {
    redis = RedisServer.start();
    e1 = FakeUpstream.start("e1");
    e3 = FakeUpstream.start("e3");
    for (String name : List.of("a", "b", "c")) {
      fleet.add(ProxyUnderTest.start(CONFIG, Map.of("E1", e1.address(), "E3", e3.address(), "REDIS", redis.uri(),
          "NAME", name, "TIMEOUT", timeout)));
    }
    for (ProxyUnderTest p : fleet) {
      await().atMost(Duration.ofSeconds(15)).until(() -> p.server().fleet().status().isUp());
    }
  }

  @AfterEach
  void stop() throws Exception {
    fleet.forEach(ProxyUnderTest::close);
    for (AutoCloseable c : new AutoCloseable[] {e1, e3, redis}) {
      if (c != null) {
        c.close();
      }
    }
  }

  private String deploy(ProxyUnderTest p, String interval) throws Exception {
    HttpResponse<String> started = admin(p, "POST", "/api/v1/deployments",
        "{\"route\":\"all\",\"to\":\"green\",\"steps\":[50,100],\"interval\":\"" + interval + "\"" + SLO);
    assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
    return JSON.readTree(started.body()).get("id").asText();
  }

  private JsonNode deployment(ProxyUnderTest p, String id) throws Exception {
    return JSON.readTree(admin(p, "GET", "/api/v1/deployments/" + id, null).body());
  }

  @Test
  void a_step_due_while_redis_is_down_holds_and_the_deployment_continues_when_redis_returns() throws Exception {
    start("1s");
    ProxyUnderTest a = fleet.get(0);
    String id = deploy(a, "1s"); // a judges it
    for (ProxyUnderTest p : fleet) {
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(admin(p, "GET", "/api/v1/routes", null).body())
          .contains("{\"cluster\":\"blue\",\"weight\":5000}"));
    }

    redis.stop();
    for (ProxyUnderTest p : fleet) {
      await().atMost(Duration.ofSeconds(10)).until(() -> !p.server().fleet().status().isUp());
    }
    // Past the step's interval, with traffic enough for a verdict: the next step cannot be shared.
    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
      for (int i = 0; i < 4; i++) {
        assertThat(a.get("example.com", "/").status()).isEqualTo(200);
      }
      for (ProxyUnderTest p : fleet) { // the judge says so, and so does every instance that cannot reach Redis
        JsonNode d = deployment(p, id);
        assertThat(d.get("state").asText()).isEqualTo("progressing");
        assertThat(d.get("step").asInt()).isEqualTo(1);
        assertThat(d.path("waitingForStore").path("reason").asText()).contains("down");
      }
      // The API says "waiting" as soon as the step is due with Redis down; the judge records it at its
      // next tick, when writing the step fails: awaited too, not read once after.
      assertThat(a.server().deployments().waiting(id)).as("the judge holds the verdict").isNotNull();
    });
    for (ProxyUnderTest p : fleet) { // every instance keeps serving the last applied step
      assertThat(admin(p, "GET", "/api/v1/routes", null).body()).contains("{\"cluster\":\"green\",\"weight\":5000}");
    }

    redis.restart(); // empty: the instances write back the deployment and the overrides
    await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
      for (ProxyUnderTest p : fleet) {
        p.get("example.com", "/");
      }
      JsonNode d = deployment(a, id);
      assertThat(d.get("state").asText()).isEqualTo("promoted");
      assertThat(d.has("waitingForStore")).isFalse();
    });
    assertThat(redis.command("HGET", "gatehouse:{default}:deployments", id)).contains("\"promoted\"");
    for (ProxyUnderTest p : fleet) {
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(p.get("example.com", "/").bodyAsString())
          .isEqualTo("e3"));
    }
  }

  @Test
  void with_redis_frozen_the_admin_reads_and_metrics_answer_from_memory() throws Exception {
    start("10s"); // a command waits up to 10 s for a frozen Redis
    ProxyUnderTest a = fleet.get(0);
    String id = deploy(a, "500ms");
    for (ProxyUnderTest p : fleet) {
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(deployment(p, id).path("judge").asText())
          .isEqualTo("a"));
    }
    redis.pause();
    try {
      // Give the judge's tick and every heartbeat time to block on the frozen Redis, with traffic
      // that makes verdicts due; then every read must still answer, before Redis is thawed.
      await().pollDelay(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(8)).untilAsserted(() -> {
        for (ProxyUnderTest p : fleet) {
          assertThat(p.get("example.com", "/").status()).isEqualTo(200);
        }
        for (ProxyUnderTest p : fleet) {
          for (String path : List.of("/api/v1/deployments", "/api/v1/deployments/" + id, "/api/v1/fleet", "/metrics",
              "/api/v1/routes")) {
            HttpResponse<String> r = ProxyUnderTest.httpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + p.server().adminAddress().getPort() + path))
                .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(path).isEqualTo(200);
          }
          HttpResponse<String> list = admin(p, "GET", "/api/v1/deployments", null);
          assertThat(list.headers().firstValueAsLong("age")).isPresent();
          assertThat(list.body()).contains(id);
        }
      });
      // A change waits for Redis (it must reach every instance, or answer 503), but not while holding
      // the change lock: a reload on that instance meanwhile goes through.
      ProxyUnderTest b = fleet.get(1);
      java.util.concurrent.CompletableFuture<HttpResponse<String>> drain = java.util.concurrent.CompletableFuture
          .supplyAsync(() -> {
            try {
              return admin(b, "POST", "/api/v1/clusters/blue/endpoints/" + e1.address() + "/drain", null);
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          });
      long before = b.server().generation();
      await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
        java.util.concurrent.CompletableFuture.runAsync(() -> {
          try {
            b.server().reload(b.server().config());
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }).get(3, TimeUnit.SECONDS);
        assertThat(b.server().generation()).isGreaterThan(before);
      });
      assertThat(drain).isNotDone(); // still waiting for the frozen Redis
    } finally {
      redis.resume();
    }
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
      for (ProxyUnderTest p : fleet) {
        p.get("example.com", "/");
      }
      assertThat(deployment(a, id).get("state").asText()).isEqualTo("promoted");
    });
  }
}
