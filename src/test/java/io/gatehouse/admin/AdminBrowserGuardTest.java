package io.gatehouse.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.config.ConfigLoader;
import io.gatehouse.lifecycle.GatehouseServer;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A loopback admin API without a token, reached as another web site's page would reach it through
 * the operator's browser: a cross-site POST (no preflight needed) or a DNS-rebound name. Each is
 * refused before it does anything; the same calls from curl, the CLI or the dashboard itself go on.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class AdminBrowserGuardTest {
  private static final String DISABLE = "/api/v1/clusters/app/endpoints/127.0.0.1:9/disable";
  private GatehouseServer server;

  @BeforeAll
  void start() throws Exception {
    server = GatehouseServer.start(ConfigLoader.parse("""
        admin: { bind: 127.0.0.1:0 }
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes: [ { name: app, cluster: app } ]
        clusters: [ { name: app, endpoints: ["127.0.0.1:9"] } ]
        """, "test.yaml", Map.of()));
  }

  @AfterAll
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private RawResponse call(String method, String path, String fields) throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(server.adminAddress().getPort())) {
      return client.send(method + " " + path + " HTTP/1.1\r\n" + fields + "Content-Length: 0\r\n\r\n").readResponse();
    }
  }

  private String self() {
    return "127.0.0.1:" + server.adminAddress().getPort();
  }

  private String state() throws Exception {
    return call("GET", "/api/v1/clusters/app", "Host: " + self() + "\r\n").bodyAsString();
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "Origin: http://evil.example\r\n",
      "Origin: null\r\n",
      "Sec-Fetch-Site: cross-site\r\n",
      "Sec-Fetch-Site: same-site\r\n",
      "Origin: http://127.0.0.1:1\r\n",
  })
  void a_request_from_another_site_changes_nothing(String browserFields) throws Exception {
    RawResponse refused = call("POST", DISABLE, "Host: " + self() + "\r\nContent-Type: text/plain\r\n" + browserFields);
    assertThat(refused.status()).isEqualTo(403);
    assertThat(refused.bodyAsString()).contains("another");
    assertThat(state()).contains("\"active\"").doesNotContain("\"disabled\"");
  }

  @Test
  void a_rebound_name_is_refused_without_a_token() throws Exception {
    RawResponse refused = call("GET", "/api/v1/config", "Host: attacker.example:" + server.adminAddress().getPort() + "\r\n");
    assertThat(refused.status()).isEqualTo(403);
    assertThat(refused.bodyAsString()).contains("loopback").doesNotContain("listeners");
    RawResponse rebound = call("POST", DISABLE, "Host: attacker.example\r\nOrigin: http://attacker.example\r\n");
    assertThat(rebound.status()).isEqualTo(403);
    assertThat(state()).doesNotContain("\"disabled\"");
  }

  @Test
  void the_dashboard_curl_and_the_cli_are_answered() throws Exception {
    for (String host : new String[] {self(), "localhost:" + server.adminAddress().getPort(), "[::1]:80", "127.0.0.2"}) {
      assertThat(call("GET", "/health", "Host: " + host + "\r\n").status()).as(host).isEqualTo(200);
    }
    // The dashboard's own call: same origin, as a browser marks it.
    RawResponse dashboard = call("POST", DISABLE,
        "Host: " + self() + "\r\nOrigin: http://" + self() + "\r\nSec-Fetch-Site: same-origin\r\n");
    assertThat(dashboard.status()).isEqualTo(200);
    assertThat(state()).contains("\"disabled\"");
    assertThat(call("POST", DISABLE.replace("disable", "enable"), "Host: " + self() + "\r\n").status()).isEqualTo(200);
  }

  @Test
  void loopback_names() {
    assertThat(BrowserGuard.isLoopbackName("127.0.0.1:9901")).isTrue();
    assertThat(BrowserGuard.isLoopbackName("LOCALHOST")).isTrue();
    assertThat(BrowserGuard.isLoopbackName("[::1]:9901")).isTrue();
    assertThat(BrowserGuard.isLoopbackName("127.1")).isFalse();
    assertThat(BrowserGuard.isLoopbackName("127.0.0.1.evil.example")).isFalse();
    assertThat(BrowserGuard.isLoopbackName("127.0.0.256")).isFalse();
    assertThat(BrowserGuard.isLoopbackName("[::1].evil")).isFalse();
    assertThat(BrowserGuard.isLoopbackName("localhost.evil.example")).isFalse();
  }
}
