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
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deployments end to end under a steady real-client load: blue and green are FakeUpstreams, the
 * judge runs on the proxy's own observation of each cohort, steps are admin-API weight overrides.
 */
@Timeout(120)
class DeploymentTest {
  private static final String TOKEN = "deploy-token";
  private static final ObjectMapper JSON = new ObjectMapper();
  /**
   * The steady load's bound: paced ({@link #LOAD_PAUSE_MILLIS} between a client's requests, three
   * clients, at most ~2,400 a second) it lasts 25 s or more on any host, longer than any of these
   * tests; unpaced, a fast host spends a count-only bound before a slow test's deployment is judged
   * (what made StickyCohortTest wait with "too few requests: 0"). The canary's first step needs
   * minRequests (15) of 10% per 400 ms interval: ~375 requests a second, well under the pace.
   */
  private static final int MAX_REQUESTS = 60_000;
  private static final long LOAD_PAUSE_MILLIS = 1;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir Path dir;

  private GatehouseServer start(FakeUpstream blue, FakeUpstream green) throws Exception {
    Path file = dir.resolve("gatehouse.yaml");
    Files.writeString(file, """
        admin: { bind: 127.0.0.1:0, token: %s }
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes: [ { name: app, backends: [ { cluster: blue, weight: 100 } ] } ]
        clusters:
          - { name: blue, endpoints: [ "%s" ] }
          - { name: green, endpoints: [ "%s" ] }
        """.formatted(TOKEN, blue.address(), green.address()));
    return GatehouseServer.start(ConfigLoader.load(file));
  }

  private record Answer(int status, JsonNode body) {}

  private Answer call(GatehouseServer server, String method, String path, String body) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminAddress().getPort() + path))
        .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + TOKEN)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    boolean json = response.headers().firstValue("content-type").orElse("").startsWith("application/json");
    return new Answer(response.statusCode(), json ? JSON.readTree(response.body()) : null);
  }

  /** Clients sending one request after another until stopped (at most {@link #MAX_REQUESTS} in all). */
  private static final class SteadyLoad implements AutoCloseable {
    final List<Load.Result> results = Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicInteger sent = new AtomicInteger();
    private final Load load = new Load(3);
    private final ExecutorService threads = Executors.newFixedThreadPool(3);
    private final List<Future<?>> workers = new ArrayList<>();

    SteadyLoad(GatehouseServer server) {
      for (int i = 0; i < 3; i++) {
        workers.add(threads.submit(() -> {
          while (!stop.get() && sent.incrementAndGet() <= MAX_REQUESTS) {
            results.add(load.get(server.address("web"), "/", Duration.ofSeconds(10)));
            try {
              Thread.sleep(LOAD_PAUSE_MILLIS);
            } catch (InterruptedException e) {
              return;
            }
          }
        }));
      }
    }

    List<Load.Result> stop() throws Exception {
      stop.set(true);
      for (Future<?> w : workers) {
        w.get(30, TimeUnit.SECONDS);
      }
      return new ArrayList<>(results);
    }

    @Override
    public void close() {
      stop.set(true);
      threads.shutdownNow();
      load.close();
    }
  }

  private static String body(String onFailure) {
    return """
        {"route":"app","to":"green","strategy":"canary","steps":[10,50,100],"interval":"400ms",
         "slo":{"maxErrorRate":0.05,"maxP99":"3s","minRequests":15,"vsBaseline":true},"onFailure":"%s"}
        """.formatted(onFailure);
  }

  private JsonNode awaitState(GatehouseServer server, String id, String state) {
    JsonNode[] last = new JsonNode[1];
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
      last[0] = call(server, "GET", "/api/v1/deployments/" + id, null).body();
      return !List.of("pending", "progressing").contains(last[0].get("state").asText());
    });
    assertThat(last[0].get("state").asText()).as(last[0].toString()).isEqualTo(state);
    return last[0];
  }

  @Test
  void good_canary_walks_its_steps_and_is_promoted_with_zero_failed_requests() throws Exception {
    try (FakeUpstream blue = FakeUpstream.start("blue"); FakeUpstream green = FakeUpstream.start("green")) {
      GatehouseServer server = start(blue, green);
      try (SteadyLoad load = new SteadyLoad(server)) {
        Answer started = call(server, "POST", "/api/v1/deployments", body("rollback"));
        assertThat(started.status()).as(started.body().toString()).isEqualTo(201);
        assertThat(started.body().get("state").asText()).isEqualTo("progressing");
        assertThat(started.body().get("percent").asInt()).isEqualTo(10);
        String id = started.body().get("id").asText();

        JsonNode done = awaitState(server, id, "promoted");
        int greenAtPromotion = green.requests().size();
        await().atMost(Duration.ofSeconds(20)).until(() -> green.requests().size() > greenAtPromotion + 50);
        List<Load.Result> results = load.stop();

        assertThat(Load.byStatus(results)).as("zero failed requests").containsOnlyKeys(200);
        List<String> events = new ArrayList<>();
        done.get("history").forEach(h -> events.add(h.get("percent").asInt() + " " + h.get("event").asText()));
        assertThat(events).as("every step passed in order").hasSize(4);
        assertThat(events.get(1)).startsWith("10 passed");
        assertThat(events.get(2)).startsWith("50 passed");
        assertThat(events.get(3)).startsWith("100 passed");
        assertThat(done.get("history").get(1).get("verdict").get("requests").asLong()).isGreaterThanOrEqualTo(15);
        assertThat(call(server, "GET", "/api/v1/routes", null).body().get(0).get("backends").toString())
            .isEqualTo("[{\"cluster\":\"green\",\"weight\":100}]");
        assertThat(call(server, "POST", "/api/v1/deployments", body("rollback").replace("\"green\"", "\"blue\"")).status())
            .as("a promoted deployment does not block the next").isEqualTo(201);
      } finally {
        server.close();
      }
    }
  }

  @Test
  void canary_answering_5xx_is_rolled_back_at_its_first_step_and_blue_takes_everything_again() throws Exception {
    try (FakeUpstream blue = FakeUpstream.start("blue"); FakeUpstream green = FakeUpstream.start("green")) {
      AtomicInteger greenCalls = new AtomicInteger();
      AtomicInteger greenErrors = new AtomicInteger();
      java.util.concurrent.atomic.AtomicLong measurableAt = new java.util.concurrent.atomic.AtomicLong();
      green.respond(head -> {
        if (greenCalls.incrementAndGet() == 15) { // minRequests: from here the judge can see the breach
          measurableAt.set(System.currentTimeMillis());
        }
        if (greenCalls.get() % 5 == 0) {
          greenErrors.incrementAndGet();
          return Reply.status(500);
        }
        return Reply.ok();
      });
      GatehouseServer server = start(blue, green);
      try (SteadyLoad load = new SteadyLoad(server)) {
        String id = call(server, "POST", "/api/v1/deployments", body("rollback")).body().get("id").asText();

        JsonNode done = awaitState(server, id, "rolled_back");
        JsonNode failure = done.get("history").get(done.get("history").size() - 1);
        int greenAtRollback = green.requests().size();
        int blueAtRollback = blue.requests().size();
        await().atMost(Duration.ofSeconds(20)).until(() -> blue.requests().size() > blueAtRollback + 100);
        List<Load.Result> results = load.stop();

        assertThat(failure.get("percent").asInt()).as("breached at the first step, never advanced").isEqualTo(10);
        // Green fails from its first request, but the judge gives no verdict before minRequests (15)
        // of them: the breach is measurable once green has answered its 15th. The rollback's own
        // timestamp (the proxy's clock) is within 2 intervals of that, plus the controller's 100 ms
        // tick and scheduling slack.
        assertThat(failure.get("at").asLong() - measurableAt.get()).as("rolled back within 2 intervals of the breach")
            .isLessThanOrEqualTo(2 * 400 + 250);
        assertThat(failure.get("event").asText()).startsWith("failed").contains("error rate");
        assertThat(failure.get("verdict").get("errors").asLong()).isPositive();
        // Two intervals at 10% bound the canary's exposure: its 5xx are a fifth of its requests,
        // and every 5xx the clients saw is one of them.
        long clientErrors = results.stream().filter(r -> r.status() == 500).count();
        assertThat(clientErrors).isEqualTo(greenErrors.get());
        assertThat(greenErrors.get()).isLessThanOrEqualTo(greenCalls.get() / 5);
        assertThat(greenCalls.get()).as("green saw about a tenth of the traffic")
            .isLessThan(results.size() / 4);
        assertThat(Load.byStatus(results)).containsOnlyKeys(200, 500);
        assertThat(green.requests()).as("nothing reaches the canary after the rollback").hasSize(greenAtRollback);
        assertThat(call(server, "GET", "/api/v1/routes", null).body().get(0).get("overridden").asBoolean())
            .as("back to the file's weights, no override left").isFalse();
        assertThat(call(server, "GET", "/metrics", null).status()).isEqualTo(200);
      } finally {
        server.close();
      }
    }
  }

  @Test
  void canary_three_times_slower_within_the_absolute_slo_is_rolled_back_by_the_baseline_comparison() throws Exception {
    try (FakeUpstream blue = FakeUpstream.start("blue"); FakeUpstream green = FakeUpstream.start("green")) {
      blue.respond(head -> Reply.slow(Duration.ofMillis(20)));
      green.respond(head -> Reply.slow(Duration.ofMillis(60)));
      GatehouseServer server = start(blue, green);
      try (SteadyLoad load = new SteadyLoad(server)) {
        String id = call(server, "POST", "/api/v1/deployments", body("rollback")).body().get("id").asText();

        JsonNode done = awaitState(server, id, "rolled_back");
        List<Load.Result> results = load.stop();

        JsonNode failure = done.get("history").get(done.get("history").size() - 1);
        assertThat(failure.get("event").asText()).contains("latency significantly above baseline");
        assertThat(failure.get("verdict").get("p99Millis").asDouble()).as("inside maxP99").isLessThan(3000);
        assertThat(Load.byStatus(results)).as("slow, not failed").containsOnlyKeys(200);
      } finally {
        server.close();
      }
    }
  }

  @Test
  void bad_bodies_unknown_names_and_a_second_deployment_are_refused() throws Exception {
    try (FakeUpstream blue = FakeUpstream.start("blue"); FakeUpstream green = FakeUpstream.start("green")) {
      GatehouseServer server = start(blue, green);
      try {
        Answer bad = call(server, "POST", "/api/v1/deployments", "{\"route\":\"app\",\"to\":\"green\",\"steps\":[50,20]}");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.body().get("field").asText()).isEqualTo("steps[1]");
        assertThat(call(server, "POST", "/api/v1/deployments", "{\"to\":\"green\"}").body().get("field").asText())
            .isEqualTo("route");
        assertThat(call(server, "POST", "/api/v1/deployments",
            "{\"route\":\"app\",\"to\":\"green\",\"slo\":{\"maxErrorRate\":2}}").body().get("field").asText())
            .isEqualTo("slo.maxErrorRate");
        assertThat(call(server, "POST", "/api/v1/deployments", "{\"route\":\"nope\",\"to\":\"green\"}").status())
            .isEqualTo(404);
        assertThat(call(server, "POST", "/api/v1/deployments", "{\"route\":\"app\",\"to\":\"nope\"}").status())
            .isEqualTo(404);
        assertThat(call(server, "GET", "/api/v1/deployments/nope", null).status()).isEqualTo(404);
        String body = "{\"route\":\"app\",\"to\":\"green\",\"interval\":\"1m\"}";
        Answer first = call(server, "POST", "/api/v1/deployments", body);
        assertThat(first.status()).isEqualTo(201);
        assertThat(call(server, "POST", "/api/v1/deployments", body).status()).isEqualTo(409);
        String id = first.body().get("id").asText();
        assertThat(call(server, "POST", "/api/v1/deployments/" + id + "/pause", null).body().get("state").asText())
            .isEqualTo("paused");
        assertThat(call(server, "GET", "/api/v1/deployments", null).body()).hasSize(1);
        assertThat(call(server, "GET", "/metrics", null).status()).isEqualTo(200);
      } finally {
        server.close();
      }
    }
  }

  @Test
  void a_deployment_survives_a_restart_through_the_state_file() throws Exception {
    try (FakeUpstream blue = FakeUpstream.start("blue"); FakeUpstream green = FakeUpstream.start("green")) {
      GatehouseServer server = start(blue, green);
      String id;
      try {
        id = call(server, "POST", "/api/v1/deployments", "{\"route\":\"app\",\"to\":\"green\",\"interval\":\"1m\"}")
            .body().get("id").asText();
      } finally {
        server.close();
      }
      GatehouseServer again = start(blue, green);
      try {
        JsonNode d = call(again, "GET", "/api/v1/deployments/" + id, null).body();
        assertThat(d.get("state").asText()).isEqualTo("progressing");
        assertThat(d.get("percent").asInt()).isEqualTo(5);
        assertThat(call(again, "GET", "/api/v1/routes", null).body().get(0).get("backends").toString())
            .contains("\"cluster\":\"green\",\"weight\":500");
        assertThat(call(again, "POST", "/api/v1/deployments/" + id + "/rollback", null).body().get("state").asText())
            .isEqualTo("rolled_back");
      } finally {
        again.close();
      }
    }
  }
}
