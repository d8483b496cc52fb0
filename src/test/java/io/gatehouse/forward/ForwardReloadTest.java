package io.gatehouse.forward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A reload changes the rules of a running forward listener, for open keep-alive connections too. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ForwardReloadTest {
  private static final String CONFIG = """
      admin: { bind: 127.0.0.1:0 }
      listeners:
        - name: egress
          bind: 127.0.0.1:%d
          mode: forward
          forward:
            rules:
              - %s: { name: %s, hosts: ["127.0.0.1"] }
      """;

  @Test
  void reloadedRulesApplyToTheNextRequest() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("origin");
        ProxyUnderTest proxy = ProxyUnderTest.startYaml(CONFIG.formatted(0, "allow", "open"));
        RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      String request = "GET http://127.0.0.1:" + origin.port() + "/ HTTP/1.1\r\nHost: x\r\n\r\n";
      client.send(request);
      assertThat(client.readResponse().status()).isEqualTo(200);

      proxy.server.reload(ConfigLoader.parse(CONFIG.formatted(proxy.port(), "deny", "closed"), "test.yaml", Map.of()));

      client.send(request);
      RawResponse r = client.readResponse();
      assertThat(r.status()).isEqualTo(403);
      assertThat(r.header("X-Gatehouse-Denied")).isEqualTo("closed");
    }
  }

  @Test
  void aReloadWithABadHtpasswdFileIsRefusedAndChangesNothing(@TempDir Path dir) throws Exception {
    Path users = dir.resolve("users.htpasswd");
    Files.writeString(users, "alice:{SHA}not-bcrypt\n");
    try (FakeUpstream origin = FakeUpstream.start("origin");
        ProxyUnderTest proxy = ProxyUnderTest.startYaml(CONFIG.formatted(0, "allow", "open"))) {
      String bad = CONFIG.formatted(proxy.port(), "deny", "closed")
          + "      auth: { users: " + users + " }\n";
      assertThatThrownBy(() -> proxy.server.reload(ConfigLoader.parse(bad, "test.yaml", Map.of())))
          .isInstanceOf(ConfigException.class).hasMessageContaining("listeners[0].forward.auth.users");

      try (RawHttpClient client = RawHttpClient.connect(proxy.port())) {
        client.send("GET http://127.0.0.1:" + origin.port() + "/ HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(client.readResponse().status()).isEqualTo(200);
      }
    }
  }

  private static final String TIMEOUTS = """
      admin: { bind: 127.0.0.1:0 }
      listeners:
        - name: egress
          bind: 127.0.0.1:%d
          mode: forward
          forward:
            rules: [ { allow: { name: open, hosts: ["127.0.0.1"] } } ]
            timeouts: { connect: %s }
      """;

  @Test
  void aReloadThatChangesForwardSettingsRetiresTheOldOriginPools() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("origin");
        ProxyUnderTest proxy = ProxyUnderTest.startYaml(TIMEOUTS.formatted(0, "5s"));
        RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      String request = "GET http://127.0.0.1:" + origin.port() + "/ HTTP/1.1\r\nHost: x\r\n\r\n";
      client.send(request);
      assertThat(client.readResponse().status()).isEqualTo(200);
      assertThat(origin.openConnections()).isEqualTo(1); // kept in the pool of generation 1

      proxy.server.reload(ConfigLoader.parse(TIMEOUTS.formatted(proxy.port(), "6s"), "test.yaml", Map.of()));

      // the old generation's pool is retired: its idle connection to the origin closes
      Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> origin.openConnections() == 0);
      client.send(request);
      assertThat(client.readResponse().status()).isEqualTo(200);
      assertThat(origin.connectionsAccepted()).isEqualTo(2);
      assertThat(origin.openConnections()).isEqualTo(1); // the new pool keeps its connection
    }
  }
}
