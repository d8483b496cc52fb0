package io.gatehouse.lifecycle;

import static io.gatehouse.lifecycle.FleetTest.admin;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.deploy.DeploymentStore;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RedisServer;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The fleet's deployments hash keeps, per route, the running ones and the last 20 that ended. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FleetDeploymentPruneTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void the_hash_keeps_the_last_twenty_ended_deployments_per_route() throws Exception {
    try (RedisServer redis = RedisServer.start();
        FakeUpstream blue = FakeUpstream.start("blue");
        FakeUpstream green = FakeUpstream.start("green");
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
            routes: [ { name: r, backends: [ { cluster: blue, weight: 100 }, { cluster: green, weight: 0 } ] } ]
            clusters: [ { name: blue, endpoints: [ "${BLUE}" ] }, { name: green, endpoints: [ "${GREEN}" ] } ]
            fleet: { redis: "${REDIS}", instance: a }
            """, Map.of("REDIS", redis.uri(), "BLUE", blue.address(), "GREEN", green.address()))) {
      await().atMost(Duration.ofSeconds(15)).until(() -> proxy.server().fleet().status().isUp());
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < DeploymentStore.KEEP_ENDED + 3; i++) {
        HttpResponse<String> started = admin(proxy, "POST", "/api/v1/deployments",
            "{\"route\":\"r\",\"to\":\"green\",\"interval\":\"10m\"}");
        assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
        String id = JSON.readTree(started.body()).get("id").asText();
        assertThat(admin(proxy, "POST", "/api/v1/deployments/" + id + "/rollback", null).statusCode()).isEqualTo(200);
        ids.add(id);
      }
      String key = "gatehouse:{default}:deployments";
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
          assertThat(redis.command("HLEN", key)).isEqualTo(String.valueOf(DeploymentStore.KEEP_ENDED + 1))); // + _version
      for (String gone : ids.subList(0, 3)) {
        assertThat(redis.command("HEXISTS", key, gone)).isEqualTo("0");
      }
      assertThat(redis.command("HEXISTS", key, ids.get(ids.size() - 1))).isEqualTo("1");
      // The list is as last read: a read sent before the deletion may land after it, for one heartbeat.
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(JSON.readTree(
          admin(proxy, "GET", "/api/v1/deployments", null).body())).hasSize(DeploymentStore.KEEP_ENDED));
    }
  }
}
