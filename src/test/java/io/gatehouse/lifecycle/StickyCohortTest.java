package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.FakeUpstream;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
 * Sticky cohorts of a deployment, end to end: real clients (java.net.http with a cookie jar) under
 * a steady load of non-sticky clients that keeps the judge fed while the steps move.
 */
@Timeout(120)
class StickyCohortTest {
  private static final String TOKEN = "sticky-token";
  private static final ObjectMapper JSON = new ObjectMapper();
  /**
   * The steady load's bound: at its pace (two clients, {@link #LOAD_PAUSE_MILLIS} between requests,
   * a few hundred a second) about two minutes, longer than any of these tests. Unpaced, a fast host
   * spent 30,000 in ~30 s, and a loaded CI host's header test, slower in its own rounds, then waited
   * at 70% with no request to judge ("too few requests: 0") until its 60 s wait ran out.
   */
  private static final int MAX_REQUESTS = 60_000;
  private static final long LOAD_PAUSE_MILLIS = 4;
  private final HttpClient admin = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

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

  private JsonNode call(GatehouseServer server, String method, String path, String body) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminAddress().getPort() + path))
        .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + TOKEN)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build();
    HttpResponse<String> response = admin.send(request, HttpResponse.BodyHandlers.ofString());
    JsonNode json = JSON.readTree(response.body());
    ((com.fasterxml.jackson.databind.node.ObjectNode) json).put("_status", response.statusCode());
    return json;
  }

  private static String deployment(String sticky) {
    return """
        {"route":"app","to":"green","steps":[10,30,50,70,100],"interval":"3s",
         "slo":{"maxErrorRate":0.05,"maxP99":"3s","minRequests":10,"vsBaseline":false},"sticky":%s}
        """.formatted(sticky);
  }

  /**
   * An operator's action on the deployment, repeated while the API answers 409 for a step being
   * written at that moment (its documented "retry in a moment"): a pause that lands just as the
   * judge moves a step is refused once, never lost. Any other answer than 200 fails the test.
   */
  private JsonNode act(GatehouseServer server, String id, String action) throws Exception {
    JsonNode[] answer = new JsonNode[1];
    await().atMost(Duration.ofSeconds(10)).until(() -> {
      answer[0] = call(server, "POST", "/api/v1/deployments/" + id + "/" + action, null);
      int status = answer[0].get("_status").asInt();
      return status != 409 || !answer[0].toString().contains("being written");
    });
    assertThat(answer[0].get("_status").asInt()).as(answer[0].toString()).isEqualTo(200);
    return answer[0];
  }

  private int percent(GatehouseServer server, String id) throws Exception {
    return call(server, "GET", "/api/v1/deployments/" + id, null).get("percent").asInt();
  }

  /** A browser-like client: its own connection and cookie jar, one request after another. */
  private static final class StickyClient {
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .cookieHandler(new CookieManager()).connectTimeout(Duration.ofSeconds(5)).build();
    final List<String> upstreams = new ArrayList<>();
    final List<String> setCookies = new ArrayList<>();
    int failed;

    void get(GatehouseServer server) {
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.address("web").getPort() + "/"))
            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
          failed++;
          return;
        }
        upstreams.add(r.headers().firstValue("X-Upstream").orElse("?"));
        r.headers().firstValue("Set-Cookie").ifPresent(setCookies::add);
      } catch (Exception e) {
        failed++;
      }
    }
  }

  /** Non-sticky clients that keep requests flowing so the judge has data; bounded by {@link #MAX_REQUESTS}. */
  private static final class SteadyLoad implements AutoCloseable {
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicInteger sent = new AtomicInteger();
    private final Load load = new Load(2);
    private final ExecutorService threads = Executors.newFixedThreadPool(2);
    final Map<Integer, Integer> statuses = new ConcurrentHashMap<>();

    SteadyLoad(GatehouseServer server) {
      for (int i = 0; i < 2; i++) {
        threads.submit(() -> {
          while (!stop.get() && sent.incrementAndGet() <= MAX_REQUESTS) {
            statuses.merge(load.get(server.address("web"), "/", Duration.ofSeconds(10)).status(), 1, Integer::sum);
            try {
              Thread.sleep(LOAD_PAUSE_MILLIS);
            } catch (InterruptedException e) {
              return;
            }
          }
        });
      }
    }

    @Override
    public void close() throws Exception {
      stop.set(true);
      threads.shutdown();
      threads.awaitTermination(30, TimeUnit.SECONDS);
      load.close();
    }
  }

  @Test
  void a_client_with_the_cohort_cookie_never_changes_version_while_the_steps_move() throws Exception {
    try (FakeUpstream blue = FakeUpstream.start("blue"); FakeUpstream green = FakeUpstream.start("green")) {
      GatehouseServer server = start(blue, green);
      ExecutorService pool = Executors.newFixedThreadPool(4);
      try (SteadyLoad load = new SteadyLoad(server)) {
        JsonNode started = call(server, "POST", "/api/v1/deployments", deployment("{\"cookie\":\"gh_cohort\"}"));
        assertThat(started.get("_status").asInt()).as(started.toString()).isEqualTo(201);
        assertThat(started.get("sticky").toString()).isEqualTo("{\"cookie\":\"gh_cohort\"}");
        String id = started.get("id").asText();

        // Twenty clients: ten from the first step (10% to green), ten more once green has 50%; all
        // keep sending until 70%, before the last step can end the split.
        List<StickyClient> clients = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        List<Future<?>> running = new ArrayList<>();
        for (int wave = 0; wave < 2; wave++) {
          if (wave == 1) {
            await().atMost(Duration.ofSeconds(60)).until(() -> percent(server, id) >= 50);
          }
          List<StickyClient> group = new ArrayList<>();
          for (int i = 0; i < 10; i++) {
            group.add(new StickyClient());
          }
          clients.addAll(group);
          running.add(pool.submit(() -> {
            // Until the pause below, bounded in time: the steps only move on with traffic to judge.
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (!stop.get() && System.nanoTime() < until) {
              group.forEach(c -> c.get(server));
            }
          }));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> percent(server, id) >= 70);
        // Held at 70% (a step lasts 3 s, time enough for this pause on a busy machine): the split
        // still stands for the forged cookies below.
        assertThat(act(server, id, "pause").get("percent").asInt()).isEqualTo(70);
        stop.set(true);
        for (Future<?> f : running) {
          f.get(30, TimeUnit.SECONDS);
        }

        Set<String> versions = new HashSet<>();
        for (StickyClient c : clients) {
          assertThat(c.failed).isZero();
          assertThat(c.upstreams).hasSizeGreaterThan(5);
          assertThat(new HashSet<>(c.upstreams)).as("one version per client").hasSize(1);
          assertThat(c.setCookies).as("the cookie is set once, on the first response").hasSize(1);
          assertThat(c.setCookies.get(0)).matches(
              "gh_cohort=(target|baseline)\\.[0-9a-f]{8}; Path=/; HttpOnly; SameSite=Lax");
          assertThat(c.setCookies.get(0)).contains(c.upstreams.get(0).equals("green") ? "=target." : "=baseline.");
          versions.add(c.upstreams.get(0));
        }
        assertThat(versions).as("both cohorts are represented").containsExactlyInAnyOrder("blue", "green");

        // A cookie of another deployment, or one naming a cluster, is no cookie: a normal pick.
        HttpClient forger = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build(); // no cookie jar: only the forged cookie goes
        String cookie = "gh_cohort=green; other=1";
        Map<String, Integer> seen = new HashMap<>();
        for (String value : List.of("green", "target.00000000", "baseline", "")) {
          for (int i = 0; i < 40; i++) {
            HttpResponse<String> r = forger.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.address("web").getPort() + "/"))
                .header("Cookie", cookie.replace("green", value)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
            assertThat(r.headers().firstValue("Set-Cookie")).as("a garbage cookie gets a real one").isPresent();
            seen.merge(r.headers().firstValue("X-Upstream").orElse("?"), 1, Integer::sum);
          }
        }
        assertThat(seen).as("picked by weight, not by the cookie").containsOnlyKeys("blue", "green");
      } finally {
        pool.shutdownNow();
        server.close();
      }
    }
  }

  @Test
  void the_header_form_only_moves_clients_from_baseline_to_target_as_the_share_rises() throws Exception {
    try (FakeUpstream blue = FakeUpstream.start("blue"); FakeUpstream green = FakeUpstream.start("green")) {
      GatehouseServer server = start(blue, green);
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5)).build();
      try (SteadyLoad load = new SteadyLoad(server)) {
        for (String[] bad : new String[][] {{"{\"cookie\":\"a b\"}", "sticky.cookie"},
            {"{\"clientAddress\":false}", "sticky.clientAddress"}, {"{\"cookie\":\"c\",\"header\":\"h\"}", "sticky"},
            {"{\"query\":\"u\"}", "sticky.query"}, {"\"cookie\"", "sticky"}}) {
          JsonNode refused = call(server, "POST", "/api/v1/deployments", deployment(bad[0]));
          assertThat(refused.get("_status").asInt()).as(bad[0]).isEqualTo(400);
          assertThat(refused.get("field").asText()).as(bad[0]).isEqualTo(bad[1]);
        }
        JsonNode started = call(server, "POST", "/api/v1/deployments", deployment("{\"header\":\"X-User\"}"));
        assertThat(started.get("_status").asInt()).as(started.toString()).isEqualTo(201);
        String id = started.get("id").asText();
        Map<Integer, Map<String, String>> rounds = new java.util.TreeMap<>();
        int last = 0;
        while (last < 70) {
          // Paused: the weights hold while every user sends one request.
          act(server, id, "pause");
          int percent = percent(server, id);
          Map<String, String> round = new HashMap<>();
          for (int user = 0; user < 200; user++) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.address("web").getPort() + "/"))
                .header("X-User", "user-" + user).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Set-Cookie")).isEmpty();
            round.put("user-" + user, r.headers().firstValue("X-Upstream").orElseThrow());
          }
          rounds.put(percent, round);
          last = percent;
          act(server, id, "resume");
          int before = percent;
          await().atMost(Duration.ofSeconds(60)).until(() -> percent(server, id) > before);
        }

        assertThat(rounds).hasSizeGreaterThanOrEqualTo(3);
        Map<String, String> previous = null;
        for (Map.Entry<Integer, Map<String, String>> round : rounds.entrySet()) {
          long onGreen = round.getValue().values().stream().filter("green"::equals).count();
          assertThat(onGreen).as("about %d%% of users on green", round.getKey())
              .isBetween(round.getKey() * 2L - 30, round.getKey() * 2L + 30);
          if (previous != null) {
            for (Map.Entry<String, String> user : previous.entrySet()) {
              if (user.getValue().equals("green")) {
                assertThat(round.getValue().get(user.getKey())).as(user.getKey() + " at " + round.getKey() + "%")
                    .isEqualTo("green");
              }
            }
          }
          previous = round.getValue();
        }
        assertThat(load.statuses).containsOnlyKeys(200);
      } finally {
        server.close();
      }
    }
  }

  @Test
  void the_sticky_rule_and_the_cohorts_survive_a_restart_through_the_state_file() throws Exception {
    try (FakeUpstream blue = FakeUpstream.start("blue"); FakeUpstream green = FakeUpstream.start("green")) {
      GatehouseServer server = start(blue, green);
      String id;
      StickyClient client = new StickyClient();
      try {
        id = call(server, "POST", "/api/v1/deployments", deployment("{\"cookie\":\"gh_cohort\"}")
            .replace("\"1s\"", "\"1m\"")).get("id").asText();
        client.get(server);
      } finally {
        server.close();
      }
      GatehouseServer again = start(blue, green);
      try {
        JsonNode d = call(again, "GET", "/api/v1/deployments/" + id, null);
        assertThat(d.get("state").asText()).isEqualTo("progressing");
        assertThat(d.get("sticky").toString()).isEqualTo("{\"cookie\":\"gh_cohort\"}");
        for (int i = 0; i < 30; i++) {
          client.get(again);
        }
        assertThat(client.failed).isZero();
        assertThat(new HashSet<>(client.upstreams)).as("the same cohort after the restart").hasSize(1);
        assertThat(client.setCookies).as("the cookie of before the restart is still honoured").hasSize(1);
      } finally {
        again.close();
      }
    }
  }
}
