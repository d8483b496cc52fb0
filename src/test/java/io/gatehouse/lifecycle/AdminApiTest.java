package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RecordedRequest;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The runtime control plane end to end: real upstreams, a real client load, the admin API over HTTP. */
@Timeout(90)
class AdminApiTest {
  private static final String TOKEN = "s3cr3t-admin-token";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  @TempDir Path dir;

  private static final String CONFIG = """
      admin: { bind: 127.0.0.1:0, token: %s }
      listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
      routes: [ { name: app, backends: [ { cluster: blue, weight: 100 }, { cluster: green, weight: 0 } ]%s } ]
      clusters:
        - { name: blue, balancer: round_robin, endpoints: [ "%s", "%s" ] }
        - { name: green, endpoints: [ "%s" ] }
      """;

  private Path write(String routeExtra, FakeUpstream a, FakeUpstream b, FakeUpstream green) throws Exception {
    Path file = dir.resolve("gatehouse.yaml");
    Files.writeString(file, CONFIG.formatted(TOKEN, routeExtra, a.address(), b.address(), green.address()));
    return file;
  }

  private record Answer(int status, JsonNode body, HttpResponse<String> raw) {}

  private Answer call(GatehouseServer server, String method, String path, String body) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.adminAddress().getPort() + path))
        .timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + TOKEN)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .build();
    HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
    JsonNode json = response.headers().firstValue("content-type").orElse("").startsWith("application/json")
        ? JSON.readTree(response.body()) : null;
    return new Answer(response.statusCode(), json, response);
  }

  private static JsonNode endpoint(JsonNode cluster, FakeUpstream upstream) {
    for (JsonNode e : cluster.get("endpoints")) {
      if (e.get("address").asText().equals(upstream.address())) {
        return e;
      }
    }
    throw new AssertionError(upstream + " not in " + cluster);
  }

  @Test
  void acknowledged_drain_under_load_waits_for_the_last_slow_request_and_sends_nothing_new() throws Exception {
    try (FakeUpstream a = FakeUpstream.start("a"); FakeUpstream b = FakeUpstream.start("b");
        FakeUpstream green = FakeUpstream.start("green"); Load load = new Load(4)) {
      b.respond(head -> head.uri().startsWith("/slow") ? Reply.slow(Duration.ofMillis(1500)) : Reply.ok());
      GatehouseServer server = GatehouseServer.start(ConfigLoader.load(write("", a, b, green)));
      try {
        List<Future<Load.Result>> slow = load.start(server.address("web"), "/slow", 4, Duration.ofSeconds(20));
        await().atMost(Duration.ofSeconds(10)).until(() -> b.requests().stream().anyMatch(r -> r.uri().equals("/slow")));
        CompletableFuture<List<Load.Result>> steady = CompletableFuture.supplyAsync(() -> {
          try {
            return load.run(server.address("web"), "/", 300, Duration.ofSeconds(20), n -> { });
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });

        await().atMost(Duration.ofSeconds(10)).until(() ->
            endpoint(call(server, "GET", "/api/v1/clusters/blue", null).body(), b).get("inFlight").asLong() >= 1);
        Answer drain = call(server, "POST", "/api/v1/clusters/blue/endpoints/" + b.address() + "/drain?wait=20s", null);
        int seenByB = b.requests().size();

        assertThat(drain.status()).as(drain.raw().body()).isEqualTo(200);
        assertThat(drain.body().get("inFlight").asLong()).isZero();
        assertThat(drain.body().get("drained").asBoolean()).isTrue();
        assertThat(drain.body().get("state").asText()).isEqualTo("draining");
        assertThat(drain.body().has("warning")).as("a still serves").isFalse();
        // b had a slow request in flight when the drain began; the drain answered 200 with 0 left,
        // so it waited for that request's response to end.
        for (Future<Load.Result> f : slow) {
          assertThat(f.get(20, TimeUnit.SECONDS).status()).isEqualTo(200);
        }
        List<Load.Result> results = steady.get(60, TimeUnit.SECONDS);
        results.addAll(load.run(server.address("web"), "/", 100, Duration.ofSeconds(20), n -> { }));
        assertThat(Load.byStatus(results)).as("zero failed requests").containsOnlyKeys(200);
        assertThat(b.requests()).as("no new request to the drained endpoint").hasSize(seenByB);

        JsonNode cluster = call(server, "GET", "/api/v1/clusters/blue", null).body();
        assertThat(endpoint(cluster, b).get("adminState").asText()).isEqualTo("draining");
        assertThat(endpoint(cluster, a).get("requestsLastMinute").asLong()).isPositive();
        assertThat(endpoint(cluster, a).get("p99Millis").asDouble()).isPositive();
        assertThat(endpoint(cluster, a).get("connections").asLong()).as("pooled keep-alive connections").isPositive();
        assertThat(endpoint(cluster, b).get("connections").asLong()).as("a drained endpoint keeps none").isZero();

        Answer last = call(server, "POST", "/api/v1/clusters/blue/endpoints/" + a.address() + "/drain", null);
        assertThat(last.status()).isEqualTo(200);
        assertThat(last.body().get("warning").asText()).contains("no active endpoint");
        Answer enable = call(server, "POST", "/api/v1/clusters/blue/endpoints/" + b.address() + "/enable", null);
        assertThat(enable.body().get("state").asText()).isEqualTo("active");
        assertThat(load.get(server.address("web"), "/", Duration.ofSeconds(10)).upstream()).isEqualTo("b");
      } finally {
        server.close();
      }
    }
  }

  @Test
  void weights_90_10_are_honoured_and_overrides_survive_reload_and_restart_until_the_file_changes_them()
      throws Exception {
    try (FakeUpstream a = FakeUpstream.start("a"); FakeUpstream b = FakeUpstream.start("b");
        FakeUpstream green = FakeUpstream.start("green"); Load load = new Load(4)) {
      Path file = write("", a, b, green);
      GatehouseServer server = GatehouseServer.start(ConfigLoader.load(file));
      boolean closed = false;
      try {
        long before = server.generation();
        CompletableFuture<List<Load.Result>> during = CompletableFuture.supplyAsync(() -> {
          try {
            return load.run(server.address("web"), "/", 300, Duration.ofSeconds(20), n -> { });
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
        Answer put = call(server, "PUT", "/api/v1/routes/app/backends",
            "[{\"cluster\":\"blue\",\"weight\":90},{\"cluster\":\"green\",\"weight\":10}]");
        assertThat(put.status()).as(put.raw().body()).isEqualTo(200);
        assertThat(put.body().get("generation").asLong()).isEqualTo(before + 1);
        assertThat(Load.byStatus(during.get(60, TimeUnit.SECONDS))).containsOnlyKeys(200);

        List<Load.Result> results = load.run(server.address("web"), "/", 1000, Duration.ofSeconds(20), n -> { });
        assertThat(Load.byStatus(results)).containsOnlyKeys(200);
        int toGreen = Load.byUpstream(results).getOrDefault("green", 0);
        // 1000 draws at p = 0.1: standard deviation 9.5, so 50..150 is over 5 sigma either way.
        assertThat(toGreen).as("green's share of 1000 requests at weight 10/100").isBetween(50, 150);

        call(server, "POST", "/api/v1/clusters/blue/endpoints/" + b.address() + "/disable", null);
        Files.writeString(file, Files.readString(file).replace("routes: [ { name: app,", "routes: [ { name: app, timeout: 20s,"));
        Answer reload = call(server, "POST", "/api/v1/reload", null);
        assertThat(reload.status()).as(reload.raw().body()).isEqualTo(200);
        assertOverrides(server, b, true);

        server.close();
        closed = true;
        GatehouseServer restarted = GatehouseServer.start(ConfigLoader.load(file));
        try {
          assertOverrides(restarted, b, true);
          List<Load.Result> after = load.run(restarted.address("web"), "/", 200, Duration.ofSeconds(20), n -> { });
          assertThat(Load.byUpstream(after)).doesNotContainKey("b").containsKey("green");

          Files.writeString(file, Files.readString(file).replace("weight: 100 }, { cluster: green, weight: 0 }",
              "weight: 50 }, { cluster: green, weight: 50 }"));
          assertThat(call(restarted, "POST", "/api/v1/reload", null).status()).isEqualTo(200);
          JsonNode routes = call(restarted, "GET", "/api/v1/routes", null).body();
          assertThat(routes.get(0).get("overridden").asBoolean()).as("the file changed the backends: it wins").isFalse();
          assertThat(routes.get(0).get("backends").get(1).get("weight").asInt()).isEqualTo(50);
        } finally {
          restarted.close();
        }
      } finally {
        if (!closed) {
          server.close();
        }
      }
    }
  }

  private void assertOverrides(GatehouseServer server, FakeUpstream b, boolean present) throws Exception {
    JsonNode routes = call(server, "GET", "/api/v1/routes", null).body();
    assertThat(routes.get(0).get("overridden").asBoolean()).isEqualTo(present);
    assertThat(routes.get(0).get("backends").get(1).get("weight").asInt()).isEqualTo(10);
    JsonNode cluster = call(server, "GET", "/api/v1/clusters/blue", null).body();
    assertThat(endpoint(cluster, b).get("adminState").asText()).isEqualTo("disabled");
  }

  @Test
  void config_is_redacted_and_bad_input_is_refused_naming_what_is_wrong() throws Exception {
    try (FakeUpstream a = FakeUpstream.start("a"); FakeUpstream b = FakeUpstream.start("b");
        FakeUpstream green = FakeUpstream.start("green")) {
      Path file = write("", a, b, green);
      GatehouseServer server = GatehouseServer.start(ConfigLoader.load(file));
      try {
        Answer config = call(server, "GET", "/api/v1/config", null);
        assertThat(config.status()).isEqualTo(200);
        assertThat(config.raw().body()).doesNotContain(TOKEN).contains("<redacted>");
        assertThat(config.body().get("generation").asLong()).isEqualTo(server.generation());
        assertThat(config.body().at("/config/routes/0/name").asText()).isEqualTo("app");

        assertError(call(server, "GET", "/api/v1/clusters/nope", null), 404, "nope");
        assertError(call(server, "POST", "/api/v1/clusters/blue/endpoints/10.9.9.9:80/drain", null), 404, "10.9.9.9:80");
        assertError(call(server, "PUT", "/api/v1/routes/nope/backends", "[{\"cluster\":\"blue\",\"weight\":1}]"), 404, "nope");
        assertField(call(server, "PUT", "/api/v1/routes/app/backends", "[{\"cluster\":\"blue\",\"weight\":-1}]"), "[0].weight");
        assertField(call(server, "PUT", "/api/v1/routes/app/backends",
            "[{\"cluster\":\"blue\",\"weight\":0},{\"cluster\":\"green\",\"weight\":0}]"), "weight");
        assertField(call(server, "PUT", "/api/v1/routes/app/backends",
            "[{\"cluster\":\"blue\",\"weight\":1},{\"cluster\":\"purple\",\"weight\":1}]"), "[1].cluster");
        assertField(call(server, "PUT", "/api/v1/routes/app/backends", "{not json"), "body");
        assertField(call(server, "POST", "/api/v1/clusters/blue/endpoints/" + b.address() + "/drain?wait=soon", null),
            "wait");

        Answer wrongMethod = call(server, "DELETE", "/api/v1/clusters/blue", null);
        assertThat(wrongMethod.status()).isEqualTo(405);
        assertThat(wrongMethod.raw().headers().firstValue("allow")).hasValue("GET, HEAD");
        assertThat(call(server, "GET", "/api/v1/nothing", null).status()).isEqualTo(404);

        HttpResponse<String> noToken = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.adminAddress().getPort() + "/api/v1/clusters"))
            .timeout(Duration.ofSeconds(10)).header("Authorization", "Bearer " + TOKEN + "x").build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(noToken.statusCode()).isEqualTo(401);

        long generation = server.generation();
        Files.writeString(file, Files.readString(file).replace("balancer: round_robin", "balancer: sideways"));
        Answer refused = call(server, "POST", "/api/v1/reload", null);
        assertThat(refused.status()).isEqualTo(422);
        JsonNode problem = refused.body().get("problems").get(0);
        assertThat(problem.get("file").asText()).endsWith("gatehouse.yaml");
        assertThat(problem.get("line").asInt()).isEqualTo(5);
        assertThat(problem.get("path").asText()).isEqualTo("clusters[0].balancer");
        assertThat(server.generation()).isEqualTo(generation);
      } finally {
        server.close();
      }
    }
  }

  /**
   * RFC 9110 §9.1: every resource that answers GET answers HEAD, with the head a GET would get
   * (monitors probe /health and /ready that way); a method is compared whole, so {@code POS} is not
   * a reload. Every answer carries Date (§6.6.1).
   */
  @Test
  void head_is_answered_where_get_is_and_a_method_is_compared_whole() throws Exception {
    try (FakeUpstream a = FakeUpstream.start("a"); FakeUpstream b = FakeUpstream.start("b");
        FakeUpstream green = FakeUpstream.start("green")) {
      GatehouseServer server = GatehouseServer.start(ConfigLoader.load(write("", a, b, green)));
      try {
        for (String path : List.of("/health", "/ready", "/metrics", "/api/v1/clusters", "/api/v1/routes")) {
          Answer get = call(server, "GET", path, null);
          Answer head = call(server, "HEAD", path, null);
          assertThat(head.status()).as(path).isEqualTo(200);
          assertThat(head.raw().body()).as(path).isEmpty();
          assertThat(head.raw().headers().firstValue("content-type")).as(path)
              .isEqualTo(get.raw().headers().firstValue("content-type"));
          if (!path.equals("/metrics")) { // the metrics' text moves between two scrapes
            assertThat(head.raw().headers().firstValueAsLong("content-length")).as(path)
                .hasValue(get.raw().body().getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
          }
          assertThat(head.raw().headers().firstValue("date")).as(path).isPresent();
        }
        Answer headOnAction = call(server, "HEAD", "/api/v1/reload", null);
        assertThat(headOnAction.status()).isEqualTo(405);
        assertThat(headOnAction.raw().headers().firstValue("allow")).hasValue("POST");

        long generation = server.generation();
        for (String partial : List.of("POS", "OST", "P")) {
          Answer answer = call(server, partial, "/api/v1/reload", null);
          assertThat(answer.status()).as(partial).isEqualTo(405);
        }
        assertThat(server.generation()).isEqualTo(generation);
        assertThat(call(server, "GE", "/api/v1/config", null).status()).isEqualTo(405);
      } finally {
        server.close();
      }
    }
  }

  @Test
  void concurrent_changes_are_serialized_each_with_its_own_generation() throws Exception {
    try (FakeUpstream a = FakeUpstream.start("a"); FakeUpstream b = FakeUpstream.start("b");
        FakeUpstream green = FakeUpstream.start("green")) {
      GatehouseServer server = GatehouseServer.start(ConfigLoader.load(write("", a, b, green)));
      try {
        long start = server.generation();
        List<CompletableFuture<Answer>> calls = new java.util.ArrayList<>();
        for (int i = 1; i <= 8; i++) {
          String body = "[{\"cluster\":\"blue\",\"weight\":" + (100 - i) + "},{\"cluster\":\"green\",\"weight\":" + i + "}]";
          calls.add(CompletableFuture.supplyAsync(() -> {
            try {
              return call(server, "PUT", "/api/v1/routes/app/backends", body);
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }));
        }
        java.util.Set<Long> generations = new java.util.TreeSet<>();
        for (CompletableFuture<Answer> c : calls) {
          Answer answer = c.get(30, TimeUnit.SECONDS);
          assertThat(answer.status()).isEqualTo(200);
          generations.add(answer.body().get("generation").asLong());
        }
        assertThat(generations).hasSize(8).first().isEqualTo(start + 1);
        assertThat(server.generation()).isEqualTo(start + 8);
      } finally {
        server.close();
      }
    }
  }

  @Test
  void listeners_show_the_bound_address_and_their_open_client_connections() throws Exception {
    try (FakeUpstream a = FakeUpstream.start("a"); FakeUpstream b = FakeUpstream.start("b");
        FakeUpstream green = FakeUpstream.start("green")) {
      GatehouseServer server = GatehouseServer.start(ConfigLoader.load(write("", a, b, green)));
      try {
        listenersShow(server);
      } finally {
        server.close();
      }
    }
  }

  private void listenersShow(GatehouseServer server) throws Exception {
    try (io.gatehouse.testing.RawHttpClient client = io.gatehouse.testing.RawHttpClient.connect(
        server.address("web").getPort())) {
      client.send("GET / HTTP/1.1\r\nHost: app\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);

      Answer listeners = call(server, "GET", "/api/v1/listeners", null);
      assertThat(listeners.status()).isEqualTo(200);
      assertThat(listeners.body()).hasSize(1);
      JsonNode web = listeners.body().get(0);
      assertThat(web.get("name").asText()).isEqualTo("web");
      assertThat(web.get("mode").asText()).isEqualTo("reverse");
      assertThat(web.get("bind").asText()).isEqualTo("127.0.0.1:0");
      assertThat(web.get("address").asText()).isEqualTo("127.0.0.1:" + server.address("web").getPort());
      assertThat(web.get("alpn").isNull()).as("cleartext").isTrue();
      assertThat(web.get("connections").asLong()).as("the raw client's keep-alive connection").isEqualTo(1);
    }
    await().atMost(Duration.ofSeconds(10)).until(() ->
        call(server, "GET", "/api/v1/listeners", null).body().get(0).get("connections").asLong() == 0);
    assertThat(call(server, "POST", "/api/v1/listeners", "").raw().headers().firstValue("allow")).hasValue("GET, HEAD");
  }

  @Test
  void ready_turns_503_as_soon_as_a_graceful_stop_starts_draining() throws Exception {
    try (FakeUpstream a = FakeUpstream.start("a"); FakeUpstream b = FakeUpstream.start("b");
        FakeUpstream green = FakeUpstream.start("green"); Load load = new Load(2)) {
      a.respond(head -> Reply.slow(Duration.ofMillis(2000)));
      b.respond(head -> Reply.slow(Duration.ofMillis(2000)));
      GatehouseServer server = GatehouseServer.start(ConfigLoader.load(write("", a, b, green)));
      assertThat(call(server, "GET", "/ready", null).status()).isEqualTo(200);
      List<Future<Load.Result>> slow = load.start(server.address("web"), "/", 1, Duration.ofSeconds(20));
      await().atMost(Duration.ofSeconds(10)).until(() -> a.requests().size() + b.requests().size() == 1);
      CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> server.stop(Duration.ofSeconds(10)));
      await().atMost(Duration.ofSeconds(5)).until(() -> call(server, "GET", "/ready", null).status() == 503);
      assertThat(stopping).as("still draining the slow request").isNotDone();
      assertThat(slow.get(0).get(20, TimeUnit.SECONDS).status()).isEqualTo(200);
      stopping.get(20, TimeUnit.SECONDS);
    }
  }

  @Test
  void a_corrupt_state_file_is_refused_at_start_with_its_position() throws Exception {
    try (FakeUpstream a = FakeUpstream.start("a"); FakeUpstream b = FakeUpstream.start("b");
        FakeUpstream green = FakeUpstream.start("green")) {
      Path file = write("", a, b, green);
      Files.writeString(Path.of(file + ".state.json"), "{\n  \"version\": 1,\n  \"routes\": {,\n}\n");
      assertThatThrownBy(() -> GatehouseServer.start(ConfigLoader.load(file)))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("gatehouse.yaml.state.json:3:");
    }
  }

  private static void assertError(Answer answer, int status, String names) {
    assertThat(answer.status()).as(answer.raw().body()).isEqualTo(status);
    assertThat(answer.body().get("error").asText()).contains(names);
  }

  private static void assertField(Answer answer, String field) {
    assertThat(answer.status()).as(answer.raw().body()).isEqualTo(400);
    assertThat(answer.body().get("field").asText()).isEqualTo(field);
  }
}
