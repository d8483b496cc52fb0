package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.Reply;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The config form of deployments: a route's {@code rollout} turns a reload (the file rewritten, then
 * {@code POST /api/v1/reload}) that changes its backends into a guarded deployment, under a steady load.
 */
@Timeout(120)
class RolloutReloadTest {
  private static final String TOKEN = "rollout-token";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient admin = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir Path dir;

  private Path file;

  private void write(FakeUpstream blue, FakeUpstream green, String cluster) throws Exception {
    Files.writeString(file, """
        admin: { bind: 127.0.0.1:0, token: %s }
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes:
          - name: app
            cluster: %s
            rollout:
              steps: [20, 60, 100]
              interval: 400ms
              slo: { maxErrorRate: 0.05, maxP99: 3s, minRequests: 10, vsBaseline: false }
        clusters:
          - { name: blue, endpoints: [ "%s" ] }
          - { name: green, endpoints: [ "%s" ] }
        """.formatted(TOKEN, cluster, blue.address(), green.address()));
  }

  private GatehouseServer start(FakeUpstream blue, FakeUpstream green) throws Exception {
    file = dir.resolve("gatehouse.yaml");
    write(blue, green, "blue");
    return GatehouseServer.start(ConfigLoader.load(file));
  }

  private JsonNode call(GatehouseServer server, String method, String path) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminAddress().getPort() + path))
        .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + TOKEN)
        .method(method, HttpRequest.BodyPublishers.noBody()).build();
    HttpResponse<String> response = admin.send(request, HttpResponse.BodyHandlers.ofString());
    JsonNode json = JSON.readTree(response.body());
    if (json.isObject()) {
      ((com.fasterxml.jackson.databind.node.ObjectNode) json).put("_status", response.statusCode());
    }
    return json;
  }

  /** Two clients sending one request after another; bounded. */
  private static final class SteadyLoad implements AutoCloseable {
    final Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicInteger sent = new AtomicInteger();
    private final Load load = new Load(2);
    private final ExecutorService threads = Executors.newFixedThreadPool(2);

    SteadyLoad(GatehouseServer server) {
      for (int i = 0; i < 2; i++) {
        threads.submit(() -> {
          while (!stop.get() && sent.incrementAndGet() <= 30_000) {
            statuses.merge(load.get(server.address("web"), "/", Duration.ofSeconds(10)).status(), 1, Integer::sum);
          }
        });
      }
    }

    Map<Integer, Integer> stop() throws InterruptedException {
      stop.set(true);
      threads.shutdown();
      threads.awaitTermination(30, TimeUnit.SECONDS);
      return statuses;
    }

    @Override
    public void close() throws Exception {
      stop();
      load.close();
    }
  }

  private JsonNode awaitEnd(GatehouseServer server, String id) {
    JsonNode[] last = new JsonNode[1];
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
      last[0] = call(server, "GET", "/api/v1/deployments/" + id);
      return !List.of("pending", "progressing").contains(last[0].get("state").asText());
    });
    return last[0];
  }

  @Test
  void a_reload_that_changes_the_backends_rolls_out_step_by_step_and_promotes() throws Exception {
    try (FakeUpstream blue = FakeUpstream.start("blue"); FakeUpstream green = FakeUpstream.start("green")) {
      GatehouseServer server = start(blue, green);
      try (SteadyLoad load = new SteadyLoad(server)) {
        write(blue, green, "green");
        assertThat(call(server, "POST", "/api/v1/reload").get("_status").asInt()).isEqualTo(200);

        JsonNode deployments = call(server, "GET", "/api/v1/deployments");
        assertThat(deployments).hasSize(1);
        JsonNode d = deployments.get(0);
        assertThat(d.get("to").asText()).isEqualTo("green");
        assertThat(d.get("from").toString()).isEqualTo("[{\"cluster\":\"blue\",\"weight\":1}]");
        assertThat(d.get("interval").asText()).isEqualTo("400ms");
        assertThat(d.get("state").asText()).isIn("progressing", "promoted");
        String id = d.get("id").asText();
        int blueAtReload = blue.requests().size();
        await().atMost(Duration.ofSeconds(20)).until(() -> blue.requests().size() > blueAtReload + 20);

        // While it runs, the file may not change the route's backends again: 422, nothing changes.
        if (call(server, "GET", "/api/v1/deployments/" + id).get("state").asText().equals("progressing")) {
          write(blue, green, "blue");
          JsonNode refused = call(server, "POST", "/api/v1/reload");
          if (call(server, "GET", "/api/v1/deployments/" + id).get("state").asText().equals("progressing")) {
            assertThat(refused.get("_status").asInt()).as(refused.toString()).isEqualTo(422);
            assertThat(refused.get("problems").get(0).get("path").asText()).isEqualTo("routes[0].backends");
          }
          write(blue, green, "green");
        }

        JsonNode done = awaitEnd(server, id);
        assertThat(done.get("state").asText()).as(done.toString()).isEqualTo("promoted");
        int greenAtPromotion = green.requests().size();
        int blueAtPromotion = blue.requests().size();
        await().atMost(Duration.ofSeconds(20)).until(() -> green.requests().size() > greenAtPromotion + 50);
        Map<Integer, Integer> statuses = load.stop();

        assertThat(statuses).as("zero failed requests").containsOnlyKeys(200);
        assertThat(blue.requests()).as("nothing to blue after the promotion").hasSize(blueAtPromotion);
        List<String> events = done.get("history").findValuesAsText("event");
        assertThat(events.stream().filter(e -> e.startsWith("passed"))).hasSize(3);
        JsonNode config = call(server, "GET", "/api/v1/config");
        assertThat(config.get("overrides").get("weights").has("app")).as("the file's backends, no override").isFalse();
      } finally {
        server.close();
      }
    }
  }

  @Test
  void a_rolled_back_rollout_leaves_the_old_backends_serving_and_says_so() throws Exception {
    try (FakeUpstream blue = FakeUpstream.start("blue"); FakeUpstream green = FakeUpstream.start("green")) {
      green.respond(head -> Reply.status(500));
      GatehouseServer server = start(blue, green);
      try (SteadyLoad load = new SteadyLoad(server)) {
        write(blue, green, "green");
        assertThat(call(server, "POST", "/api/v1/reload").get("_status").asInt()).isEqualTo(200);
        String id = call(server, "GET", "/api/v1/deployments").get(0).get("id").asText();

        JsonNode done = awaitEnd(server, id);
        assertThat(done.get("state").asText()).as(done.toString()).isEqualTo("rolled_back");
        JsonNode last = done.get("history").get(done.get("history").size() - 1);
        assertThat(last.get("event").asText()).contains("error rate").contains("while the file says");
        int greenAtRollback = green.requests().size();

        JsonNode versus = call(server, "GET", "/api/v1/config").get("overrides").get("weightsVsFile").get("app");
        assertThat(versus.get("serving").toString()).isEqualTo("[{\"cluster\":\"blue\",\"weight\":1}]");
        assertThat(versus.get("file").toString()).isEqualTo("[{\"cluster\":\"green\",\"weight\":1}]");

        // The same file again: nothing new starts, blue keeps serving.
        assertThat(call(server, "POST", "/api/v1/reload").get("_status").asInt()).isEqualTo(200);
        assertThat(call(server, "GET", "/api/v1/deployments")).hasSize(1);
        int blueNow = blue.requests().size();
        await().atMost(Duration.ofSeconds(20)).until(() -> blue.requests().size() > blueNow + 50);
        load.stop();
        assertThat(green.requests()).as("green gets nothing after the rollback").hasSize(greenAtRollback);
        assertThat(load.statuses.keySet()).containsOnly(200, 500);
      } finally {
        server.close();
      }
    }
  }

  @Test
  void a_deployment_asked_for_by_the_api_takes_what_it_leaves_out_from_the_route_s_rollout() throws Exception {
    try (FakeUpstream blue = FakeUpstream.start("blue"); FakeUpstream green = FakeUpstream.start("green")) {
      GatehouseServer server = start(blue, green);
      try {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminAddress().getPort()
                + "/api/v1/deployments")).timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + TOKEN)
            .POST(HttpRequest.BodyPublishers.ofString("{\"route\":\"app\",\"to\":\"green\",\"slo\":{\"maxP99\":\"2s\"}}"))
            .build();
        HttpResponse<String> response = admin.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        JsonNode d = JSON.readTree(response.body());
        assertThat(d.get("steps").toString()).isEqualTo("[20,60,100]");
        assertThat(d.get("interval").asText()).isEqualTo("400ms");
        assertThat(d.get("slo").toString())
            .isEqualTo("{\"maxErrorRate\":0.05,\"maxP99\":\"2s\",\"maxP99Millis\":2000,\"minRequests\":10,"
                + "\"vsBaseline\":false}");
        assertThat(d.get("intervalMillis").asLong()).isEqualTo(400);
      } finally {
        server.close();
      }
    }
  }
}
