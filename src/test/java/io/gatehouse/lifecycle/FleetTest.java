package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RedisServer;
import io.gatehouse.testing.Reply;
import io.gatehouse.upstream.AdminState;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three instances in one JVM, one real redis-server: a drain, an enable or a weight change made on
 * any instance applies on all; Redis going away leaves each serving on its last state; a change
 * made while one instance was cut off reaches it when it reconnects; Redis restarted empty is
 * seeded back from the instances. Each instance logs in as its own ACL user, so one can be cut off
 * alone ({@code ACL SETUSER b off} + {@code CLIENT KILL USER b}).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class FleetTest {
  private static final String CONFIG = """
      listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
      routes:
        - { name: all, backends: [ { cluster: blue, weight: 100 }, { cluster: green, weight: 0 } ] }
        - { name: api, match: { host: api.example.com }, backends: [ { cluster: blue, weight: 100 }, { cluster: green, weight: 0 } ] }
      clusters:
        - { name: blue, endpoints: ["${E1}", "${E2}"] }
        - { name: green, endpoints: ["${E3}"] }
      fleet: { redis: "${REDIS}", instance: "${NAME}", username: "${NAME}", password: "pw-${NAME}", timeout: 1s }
      """;
  /** Generous: the contract is one second; a loaded CI machine must not fail the test for a hiccup. */
  private static final Duration APPLIES = Duration.ofSeconds(5);
  private static final ObjectMapper JSON = new ObjectMapper();

  private RedisServer redis;
  private FakeUpstream e1;
  private FakeUpstream e2;
  private FakeUpstream e3;
  private final List<ProxyUnderTest> fleet = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    redis = RedisServer.start();
    users();
    e1 = FakeUpstream.start("e1");
    e2 = FakeUpstream.start("e2");
    e3 = FakeUpstream.start("e3");
    for (String name : List.of("a", "b", "c")) {
      fleet.add(ProxyUnderTest.start(CONFIG, Map.of("E1", e1.address(), "E2", e2.address(), "E3", e3.address(),
          "REDIS", redis.uri(), "NAME", name)));
    }
    for (ProxyUnderTest p : fleet) {
      await().atMost(Duration.ofSeconds(15)).until(() -> p.server().fleet().status().isUp());
    }
  }

  private void users() throws Exception {
    for (String name : List.of("a", "b", "c")) {
      assertThat(redis.command("ACL", "SETUSER", name, "on", ">pw-" + name, "~*", "allchannels", "+@all")).isEqualTo("OK");
    }
  }

  @AfterEach
  void stop() throws Exception {
    fleet.forEach(ProxyUnderTest::close);
    for (AutoCloseable c : new AutoCloseable[] {e1, e2, e3, redis}) {
      if (c != null) {
        c.close();
      }
    }
  }

  @Test
  void a_drain_on_one_instance_stops_traffic_from_every_instance() throws Exception {
    ProxyUnderTest a = fleet.get(0);
    long startedAt = System.nanoTime();
    assertThat(admin(a, "POST", "/api/v1/clusters/blue/endpoints/" + e1.address() + "/drain", null).statusCode())
        .isEqualTo(200);
    for (ProxyUnderTest p : fleet) {
      await().atMost(APPLIES).pollInterval(Duration.ofMillis(10)).until(() -> adminState(p, e1) == AdminState.DRAINING);
    }
    System.out.printf("fleet drain applied on all 3 instances %d ms after the call was sent%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedAt));
    e1.clearRequests();
    for (ProxyUnderTest p : fleet) {
      for (int i = 0; i < 6; i++) {
        assertThat(p.get("example.com", "/").status()).isEqualTo(200);
      }
    }
    assertThat(e1.requests()).isEmpty();
    assertThat(fleet).allSatisfy(p -> assertThat(p.server().fleetVersion()).isPositive());

    ProxyUnderTest c = fleet.get(2);
    assertThat(admin(c, "POST", "/api/v1/clusters/blue/endpoints/" + e1.address() + "/enable", null).statusCode())
        .isEqualTo(200);
    for (ProxyUnderTest p : fleet) {
      await().atMost(APPLIES).until(() -> adminState(p, e1) == AdminState.ACTIVE);
    }
  }

  @Test
  void weights_set_on_one_instance_apply_on_every_instance_each_as_a_new_generation() throws Exception {
    ProxyUnderTest b = fleet.get(1);
    long[] generations = fleet.stream().mapToLong(p -> p.server().generation()).toArray();
    assertThat(admin(b, "PUT", "/api/v1/routes/all/backends",
        "[{\"cluster\":\"blue\",\"weight\":0},{\"cluster\":\"green\",\"weight\":100}]").statusCode()).isEqualTo(200);
    for (int i = 0; i < fleet.size(); i++) {
      ProxyUnderTest p = fleet.get(i);
      long before = generations[i];
      await().atMost(APPLIES).untilAsserted(() -> {
        assertThat(p.server().generation()).isGreaterThan(before);
        assertThat(p.get("example.com", "/").bodyAsString()).isEqualTo("e3");
      });
    }
    assertThat(fleet).extracting(p -> p.server().fleetVersion()).containsOnly(b.server().fleetVersion());
  }

  @Test
  void without_redis_instances_serve_on_their_last_state_refuse_changes_and_catch_up_after() throws Exception {
    ProxyUnderTest a = fleet.get(0);
    admin(a, "POST", "/api/v1/clusters/blue/endpoints/" + e1.address() + "/drain", null);
    for (ProxyUnderTest p : fleet) {
      await().atMost(APPLIES).until(() -> adminState(p, e1) == AdminState.DRAINING);
    }

    redis.stop();
    for (ProxyUnderTest p : fleet) {
      await().atMost(Duration.ofSeconds(10)).until(() -> !p.server().fleet().status().isUp());
      assertThat(p.metrics().scrape()).contains("gatehouse_fleet_store_up 0");
    }
    HttpResponse<String> refused = admin(a, "POST", "/api/v1/clusters/blue/endpoints/" + e2.address() + "/drain", null);
    assertThat(refused.statusCode()).isEqualTo(503);
    assertThat(refused.body()).contains("unreachable").contains("not applied");
    e1.clearRequests();
    for (ProxyUnderTest p : fleet) {
      for (int i = 0; i < 4; i++) {
        assertThat(p.get("example.com", "/").status()).isEqualTo(200);
      }
    }
    assertThat(e1.requests()).isEmpty(); // the drain holds without Redis
    assertThat(e2.requests()).hasSize(12);

    redis.restart(); // empty: no persistence
    users();
    for (ProxyUnderTest p : fleet) {
      await().atMost(Duration.ofSeconds(15)).until(() -> p.server().fleet().status().isUp());
    }
    // The first instance back seeded Redis from its state: the drain is still the fleet's.
    await().atMost(APPLIES).untilAsserted(() -> assertThat(redis.command("HGET", "gatehouse:{default}:overrides",
        "endpoint:blue/" + e1.address())).contains("draining"));
    assertThat(fleet).allSatisfy(p -> assertThat(adminState(p, e1)).isEqualTo(AdminState.DRAINING));
  }

  @Test
  void an_instance_cut_off_during_a_change_applies_it_when_it_reconnects() throws Exception {
    ProxyUnderTest a = fleet.get(0);
    ProxyUnderTest b = fleet.get(1);
    ProxyUnderTest c = fleet.get(2);
    assertThat(redis.command("ACL", "SETUSER", "b", "off")).isEqualTo("OK");
    redis.command("CLIENT", "KILL", "USER", "b");
    await().atMost(Duration.ofSeconds(10)).until(() -> !b.server().fleet().status().isUp());
    assertThat(FleetLinkTest.adminGet(b, "/metrics")).contains("gatehouse_fleet_store_up 0");

    assertThat(admin(a, "POST", "/api/v1/clusters/blue/endpoints/" + e2.address() + "/disable", null).statusCode())
        .isEqualTo(200);
    await().atMost(APPLIES).until(() -> adminState(c, e2) == AdminState.DISABLED);
    assertThat(adminState(b, e2)).isEqualTo(AdminState.ACTIVE); // cut off: still its last state

    assertThat(redis.command("ACL", "SETUSER", "b", "on")).isEqualTo("OK");
    await().atMost(Duration.ofSeconds(15)).until(() -> b.server().fleet().status().isUp());
    await().atMost(APPLIES).until(() -> adminState(b, e2) == AdminState.DISABLED);
    assertThat(b.server().fleetVersion()).isEqualTo(a.server().fleetVersion());
  }

  @Test
  void a_deployment_run_by_one_instance_moves_every_instance_step_by_step() throws Exception {
    ProxyUnderTest a = fleet.get(0);
    HttpResponse<String> started = admin(a, "POST", "/api/v1/deployments",
        "{\"route\":\"all\",\"to\":\"green\",\"steps\":[5,25,50,100],\"interval\":\"10m\"}");
    assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
    String id = JSON.readTree(started.body()).get("id").asText();
    for (ProxyUnderTest p : fleet) { // the step is a weights override: it applies fleet-wide
      await().atMost(APPLIES).untilAsserted(() -> assertThat(admin(p, "GET", "/api/v1/routes", null).body())
          .contains("{\"cluster\":\"blue\",\"weight\":9500}").contains("{\"cluster\":\"green\",\"weight\":500}"));
    }
    assertThat(admin(a, "POST", "/api/v1/deployments/" + id + "/rollback", null).statusCode()).isEqualTo(200);
    for (ProxyUnderTest p : fleet) {
      await().atMost(APPLIES).untilAsserted(() -> assertThat(admin(p, "GET", "/api/v1/routes", null).body())
          .contains("{\"cluster\":\"blue\",\"weight\":100}").contains("\"overridden\":false"));
    }
  }

  @Test
  void each_deployment_has_its_own_judge_and_when_one_dies_another_instance_rolls_its_deployment_back()
      throws Exception {
    ProxyUnderTest a = fleet.get(0);
    ProxyUnderTest b = fleet.get(1);
    ProxyUnderTest c = fleet.get(2);
    String slo = ",\"slo\":{\"minRequests\":1,\"maxErrorRate\":0.2,\"maxP99\":\"5s\",\"vsBaseline\":false}}";
    // Each starter claims its deployment's lease: two routes, two judges.
    String onA = start(a, "{\"route\":\"all\",\"to\":\"green\",\"steps\":[50,100],\"interval\":\"1s\"" + slo);
    String onB = start(b, "{\"route\":\"api\",\"to\":\"green\",\"steps\":[50,100],\"interval\":\"1s\"" + slo);
    for (ProxyUnderTest p : fleet) { // every instance sees both records and both holders
      assertThat(admin(p, "GET", "/api/v1/deployments/" + onA, null).statusCode()).isEqualTo(200);
      await().atMost(APPLIES).untilAsserted(() -> {
        JsonNode judges = JSON.readTree(admin(p, "GET", "/api/v1/fleet", null).body()).path("judges");
        assertThat(judges.path(onA).asText()).isEqualTo("a");
        assertThat(judges.path(onB).asText()).isEqualTo("b");
      });
    }

    // No traffic yet, so no verdict: the deployment on "all" is mid-way when its judge dies, and
    // green turns bad for it (not for "api") from that moment on.
    e3.respond(head -> "api.example.com".equals(head.header("host")) ? Reply.ok() : Reply.status(500));
    long killedAt = System.currentTimeMillis();
    a.close(); // its lease lapses after three heartbeats; b or c takes it and continues from the record
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
      for (ProxyUnderTest p : List.of(b, c)) {
        for (int i = 0; i < 3; i++) {
          p.get("example.com", "/");
          p.get("api.example.com", "/");
        }
      }
      assertThat(JSON.readTree(admin(b, "GET", "/api/v1/deployments/" + onA, null).body()).get("state").asText())
          .isEqualTo("rolled_back");
      assertThat(JSON.readTree(admin(c, "GET", "/api/v1/deployments/" + onB, null).body()).get("state").asText())
          .isEqualTo("promoted");
    });
    JsonNode rolledBack = JSON.readTree(admin(c, "GET", "/api/v1/deployments/" + onA, null).body());
    JsonNode history = rolledBack.get("history");
    long rolledBackAt = history.get(history.size() - 1).get("at").asLong();
    // Issue 12 bounds it by 2 intervals + the lease (3 heartbeats): 5 s here. Printed, not asserted
    // (a test never asserts a timing); docs/fleet.md quotes the figure.
    System.out.printf("deployment rolled back by another instance %d ms after its judge was closed%n",
        rolledBackAt - killedAt);
    assertThat(history.get(history.size() - 1).get("event").asText()).startsWith("failed");
    for (ProxyUnderTest p : List.of(b, c)) { // the rollback and the promotion applied everywhere
      await().atMost(APPLIES).untilAsserted(() -> {
        assertThat(p.get("example.com", "/").status()).isEqualTo(200);
        assertThat(p.get("api.example.com", "/").bodyAsString()).isEqualTo("e3");
      });
    }
  }

  private static String start(ProxyUnderTest p, String body) throws Exception {
    HttpResponse<String> started = admin(p, "POST", "/api/v1/deployments", body);
    assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
    return JSON.readTree(started.body()).get("id").asText();
  }

  @Test
  void the_judge_decides_on_the_fleets_summed_figures() throws Exception {
    ProxyUnderTest holder = fleet.get(0); // the starter judges its deployment
    List<ProxyUnderTest> others = fleet.subList(1, 3);
    String id = start(holder, "{\"route\":\"all\",\"to\":\"green\",\"steps\":[50,100],\"interval\":\"1500ms\","
        + "\"slo\":{\"minRequests\":10,\"maxErrorRate\":0.5,\"maxP99\":\"5s\",\"vsBaseline\":false}}");
    await().atMost(APPLIES).untilAsserted(() -> assertThat(JSON.readTree(admin(holder, "GET", "/api/v1/fleet", null)
        .body()).path("judges").path(id).asText()).isEqualTo("a"));
    // No request crosses the judge: only the other instances' figures, summed in Redis, can pass a step.
    await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
      for (ProxyUnderTest p : others) {
        for (int i = 0; i < 3; i++) {
          p.get("example.com", "/");
        }
      }
      JsonNode d = JSON.readTree(admin(holder, "GET", "/api/v1/deployments/" + id, null).body());
      assertThat(d.get("state").asText()).isEqualTo("promoted");
    });
    JsonNode history = JSON.readTree(admin(holder, "GET", "/api/v1/deployments/" + id, null).body()).get("history");
    assertThat(history.toString()).contains("passed");
  }

  @Test
  void every_instance_heartbeats_and_the_api_lists_the_fleet() throws Exception {
    ProxyUnderTest a = fleet.get(0);
    ProxyUnderTest c = fleet.get(2);
    await().atMost(APPLIES).untilAsserted(() -> {
      JsonNode view = JSON.readTree(admin(a, "GET", "/api/v1/fleet", null).body());
      assertThat(view.get("instance").asText()).isEqualTo("a");
      assertThat(view.get("redis").asText()).isEqualTo("up");
      assertThat(view.get("since").asText()).isNotEmpty();
      assertThat(view.get("instances").findValuesAsText("instance")).containsExactlyInAnyOrder("a", "b", "c");
      assertThat(view.get("instances").findValues("alive")).allMatch(JsonNode::asBoolean);
      for (JsonNode i : view.get("instances")) {
        ProxyUnderTest p = fleet.get("abc".indexOf(i.get("instance").asText()));
        assertThat(i.get("admin").asText()).isEqualTo("127.0.0.1:" + p.server().adminAddress().getPort());
        assertThat(i.get("generation").asLong()).isEqualTo(p.server().generation());
      }
    });

    c.close(); // stops beating: its key expires after three heartbeats, the index keeps it an hour
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      JsonNode view = JSON.readTree(admin(a, "GET", "/api/v1/fleet", null).body());
      JsonNode gone = null;
      for (JsonNode i : view.get("instances")) {
        if (i.get("instance").asText().equals("c")) {
          gone = i;
        }
      }
      assertThat(gone).isNotNull();
      assertThat(gone.get("alive").asBoolean()).isFalse();
    });

    redis.stop();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      JsonNode view = JSON.readTree(admin(a, "GET", "/api/v1/fleet", null).body());
      assertThat(view.get("redis").asText()).isEqualTo("down");
      assertThat(view.get("instances")).isEmpty();
    });
  }

  private static AdminState adminState(ProxyUnderTest p, FakeUpstream e) {
    return p.server().endpoints().find(io.gatehouse.config.HostPort.parse(e.address())).adminState();
  }

  static HttpResponse<String> admin(ProxyUnderTest p, String method, String path, String body) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + p.server().adminAddress().getPort() + path))
        .timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build();
    return ProxyUnderTest.httpClient().send(request, HttpResponse.BodyHandlers.ofString());
  }
}
