package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RawHttpClient;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A reload is one whole generation: settings that used to stick to long-lived objects follow it. */
@Timeout(60)
class GenerationTest {
  private static GatehouseConfig config(String yaml, Object... args) throws Exception {
    return ConfigLoader.parse(yaml.formatted(args), "test.yaml", Map.of());
  }

  private static final String POOLED = """
      admin: { bind: 127.0.0.1:0 }
      listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
      routes: [ { name: all, cluster: c } ]
      clusters: [ { name: c, endpoints: [ "%s" ], pool: { maxConnections: 8, maxIdleTime: %s } } ]
      """;

  @Test
  void pool_settings_follow_a_reload_for_endpoints_already_connected() throws Exception {
    try (FakeUpstream up = FakeUpstream.start("up")) {
      GatehouseServer proxy = GatehouseServer.start(config(POOLED, up.address(), "5m"));
      try (RawHttpClient client = RawHttpClient.connect(proxy.address("web").getPort())) {
        assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
        assertThat(up.openConnections()).as("kept idle in the pool for 5 minutes").isEqualTo(1);

        proxy.reload(config(POOLED, up.address(), "300ms"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(up.openConnections())
            .as("the pool of the old settings is retired: its idle connection closes").isZero());
        assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(up.openConnections())
            .as("the new maxIdleTime applies to the endpoint's next connection").isZero());
        assertThat(up.connectionsAccepted()).isEqualTo(2);
      } finally {
        proxy.close();
      }
    }
  }

  private static final String LIMITED = """
      admin: { bind: 127.0.0.1:0 }
      listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
      routes: [ { name: all, cluster: c, timeout: %s, rateLimit: { key: route, perSecond: 0.01, burst: 2 } } ]
      clusters: [ { name: c, endpoints: [ "%s" ] } ]
      """;

  @Test
  void rate_limit_buckets_survive_a_reload_that_keeps_the_limit() throws Exception {
    try (FakeUpstream up = FakeUpstream.start("up")) {
      GatehouseServer proxy = GatehouseServer.start(config(LIMITED, "30s", up.address()));
      try (RawHttpClient client = RawHttpClient.connect(proxy.address("web").getPort())) {
        for (int i = 0; i < 2; i++) {
          assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
        }
        assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(429);

        proxy.reload(config(LIMITED, "20s", up.address()));
        assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status())
            .as("the reload changed the route's timeout, not its limit: the bucket is still empty").isEqualTo(429);
      } finally {
        proxy.close();
      }
    }
  }

  private static final String WHOLE = """
      admin: { bind: 127.0.0.1:0 }
      listeners:
        - { name: web, bind: 127.0.0.1:%d, mode: reverse }
        - name: egress
          bind: 127.0.0.1:%d
          mode: forward
          forward:
            rules: [ { %s: { name: %s, hosts: ["127.0.0.1"] } } ]
      routes: [ { name: app, listeners: [web], cluster: %s%s } ]
      clusters:
        - { name: blue, endpoints: [ "%s" ] }
        - { name: green, endpoints: [ "%s" ], pool: { maxIdleTime: %s } }
      """;

  @Test
  void one_reload_changes_every_kind_of_setting_for_the_next_request_of_open_connections() throws Exception {
    try (FakeUpstream blue = FakeUpstream.start("blue"); FakeUpstream green = FakeUpstream.start("green");
        FakeUpstream origin = FakeUpstream.start("origin")) {
      GatehouseServer proxy = GatehouseServer.start(config(WHOLE, 0, 0, "allow", "open", "blue", "",
          blue.address(), green.address(), "5m"));
      int web = proxy.address("web").getPort();
      int egress = proxy.address("egress").getPort();
      String forwardRequest = "GET http://127.0.0.1:" + origin.port() + "/ HTTP/1.1\r\nHost: x\r\n\r\n";
      String reverseRequest = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
      try (RawHttpClient reverse = RawHttpClient.connect(web); RawHttpClient forward = RawHttpClient.connect(egress)) {
        assertThat(reverse.send(reverseRequest).readResponse().header("x-upstream")).isEqualTo("blue");
        assertThat(forward.send(forwardRequest).readResponse().status()).isEqualTo(200);

        proxy.reload(config(WHOLE, web, egress, "deny", "closed", "green",
            ", hostRewrite: inner.example, rateLimit: { key: route, perSecond: 0.01, burst: 1 }",
            blue.address(), green.address(), "300ms"));

        var routed = reverse.send(reverseRequest).readResponse();
        assertThat(routed.header("x-upstream")).as("route backends").isEqualTo("green");
        assertThat(green.lastRequest().headers().get("Host")).as("route hostRewrite").isEqualTo("inner.example");
        assertThat(reverse.send(reverseRequest).readResponse().status()).as("route rateLimit").isEqualTo(429);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(green.openConnections())
            .as("cluster pool.maxIdleTime").isZero());
        var denied = forward.send(forwardRequest).readResponse();
        assertThat(denied.status()).as("forward rules").isEqualTo(403);
        assertThat(denied.header("X-Gatehouse-Denied")).isEqualTo("closed");
      } finally {
        proxy.close();
      }
    }
  }

  private static final String LISTENER_LIMITS = """
      admin: { bind: 127.0.0.1:0 }
      listeners: [ { name: web, bind: 127.0.0.1:%d, mode: reverse } ]
      limits: { maxHeaderBytes: %s, maxBodyBytes: %s }
      routes: [ { name: all, cluster: c } ]
      clusters: [ { name: c, endpoints: [ "%s" ] } ]
      """;

  @Test
  void listener_limits_follow_a_reload_on_the_same_socket_per_connection_and_per_request() throws Exception {
    try (FakeUpstream up = FakeUpstream.start("up")) {
      GatehouseServer proxy = GatehouseServer.start(config(LISTENER_LIMITS, 0, "8KiB", "1MiB", up.address()));
      int port = proxy.address("web").getPort();
      String bigHead = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: " + "p".repeat(3000) + "\r\n\r\n";
      String upload = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n" + "b".repeat(2000);
      java.util.concurrent.atomic.AtomicBoolean reloaded = new java.util.concurrent.atomic.AtomicBoolean();
      java.util.concurrent.atomic.AtomicInteger refused = new java.util.concurrent.atomic.AtomicInteger();
      java.util.concurrent.atomic.AtomicInteger connects = new java.util.concurrent.atomic.AtomicInteger();
      Thread connector = new Thread(() -> {
        for (int i = 0; i < 5000 && !reloaded.get(); i++) { // bounded: stops after the reload, or by itself
          try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
            connects.incrementAndGet();
          } catch (java.io.IOException e) {
            refused.incrementAndGet();
          }
        }
      });
      try (RawHttpClient before = RawHttpClient.connect(port)) {
        assertThat(before.send(bigHead).readResponse().status()).isEqualTo(200);
        connector.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> connects.get() > 0);

        proxy.reload(config(LISTENER_LIMITS, port, "2KiB", "1KiB", up.address()));
        reloaded.set(true);
        connector.join(10_000);

        assertThat(refused.get()).as("connects refused while the listener took the new generation").isZero();
        assertThat(proxy.address("web").getPort()).as("the same socket").isEqualTo(port);
        try (RawHttpClient after = RawHttpClient.connect(port)) {
          assertThat(after.send(bigHead).readResponse().status())
              .as("maxHeaderBytes applies to connections accepted after the reload").isEqualTo(431);
        }
        assertThat(before.send(bigHead).readResponse().status())
            .as("an open connection keeps the head limit it was built with").isEqualTo(200);
        assertThat(before.send(upload).readResponse().status())
            .as("maxBodyBytes is read per request: the open connection's next request has the new one").isEqualTo(413);
      } finally {
        reloaded.set(true);
        proxy.close();
      }
    }
  }

  private static final String PER_CLIENT = """
      admin: { bind: 127.0.0.1:0 }
      listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
      limits: { maxBodyBytes: %s, perClient: { requestsPerSecond: 0.01, burst: 2 } }
      routes: [ { name: all, cluster: c } ]
      clusters: [ { name: c, endpoints: [ "%s" ] } ]
      """;

  @Test
  void per_client_request_buckets_survive_a_reload_that_keeps_the_limit() throws Exception {
    try (FakeUpstream up = FakeUpstream.start("up")) {
      GatehouseServer proxy = GatehouseServer.start(config(PER_CLIENT, "1MiB", up.address()));
      try (RawHttpClient client = RawHttpClient.connect(proxy.address("web").getPort())) {
        for (int i = 0; i < 2; i++) {
          assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(200);
        }
        assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status()).isEqualTo(429);

        proxy.reload(config(PER_CLIENT, "2MiB", up.address()));
        assertThat(client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status())
            .as("the reload kept limits.perClient: this client's bucket is still empty").isEqualTo(429);
        try (RawHttpClient again = RawHttpClient.connect(proxy.address("web").getPort())) {
          assertThat(again.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse().status())
              .as("on a connection opened after the reload too").isEqualTo(429);
        }
      } finally {
        proxy.close();
      }
    }
  }
}
