package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.fleet.FleetClient;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RedisServer;
import io.gatehouse.testing.TestCerts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rediss://} to a real redis-server with TLS, as a fleet across untrusted networks runs it:
 * a private CA ({@code fleet.tls.ca}) and a client certificate for a Redis that asks for one (its
 * default, {@code tls-auth-clients yes}); a server certificate the CA did not sign is never trusted.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class FleetTlsTest {
  private static final String LISTENERS = """
      listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
      routes: [ { name: all, cluster: app } ]
      clusters: [ { name: app, endpoints: ["${A}"] } ]
      """;

  @TempDir Path dir;

  @Test
  void a_private_ca_and_a_client_certificate_reach_a_redis_that_asks_for_one() throws Exception {
    TestCerts server = certs("server");
    TestCerts client = certs("client");
    try (RedisServer redis = RedisServer.startTls(server, client.certificate());
        FakeUpstream a = FakeUpstream.start("a");
        ProxyUnderTest proxy = ProxyUnderTest.start(LISTENERS + """
            fleet:
              redis: "${REDIS}"
              instance: a
              tls: { ca: "${CA}", cert: "${CERT}", key: "${KEY}" }
            """, Map.of("A", a.address(), "REDIS", redis.tlsUri(), "CA", server.certificate().toString(),
            "CERT", client.certificate().toString(), "KEY", client.privateKey().toString()))) {
      FleetClient fleet = proxy.server().fleet();
      await().atMost(Duration.ofSeconds(10)).until(() -> fleet.status().isUp());
      assertThat(fleet.call(r -> r.set(fleet.key("tls-check"), "over-tls")).get(5, TimeUnit.SECONDS)).isEqualTo("OK");
      // Gatehouse knows only the TLS port; the plain one shows what it wrote there.
      assertThat(redis.command("GET", "gatehouse:{default}:tls-check")).isEqualTo("over-tls");
      assertThat(redis.command("CLIENT", "LIST")).contains("name=gatehouse-a");
    }
  }

  @Test
  void a_server_certificate_the_ca_did_not_sign_keeps_the_fleet_down_and_serving_goes_on() throws Exception {
    TestCerts server = certs("server");
    TestCerts stranger = certs("stranger");
    try (RedisServer redis = RedisServer.startTls(server, null);
        FakeUpstream a = FakeUpstream.start("a");
        ProxyUnderTest proxy = ProxyUnderTest.start(LISTENERS + """
            fleet: { redis: "${REDIS}", instance: a, timeout: 500ms, tls: { ca: "${CA}" } }
            """, Map.of("A", a.address(), "REDIS", redis.tlsUri(), "CA", stranger.certificate().toString()))) {
      FleetClient fleet = proxy.server().fleet();
      await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> !fleet.status().isUp());
      assertThat(proxy.metrics().scrape()).contains("gatehouse_fleet_store_up 0");
      assertThat(proxy.get("example.com", "/").status()).isEqualTo(200);
    }
  }

  private TestCerts certs(String name) throws Exception {
    return TestCerts.selfSigned(Files.createDirectories(dir.resolve(name)));
  }
}
