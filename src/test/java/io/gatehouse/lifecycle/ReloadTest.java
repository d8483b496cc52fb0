package io.gatehouse.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.FreePorts;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Reload: routes switch at the next request, listeners are added, kept and removed without drops. */
@Timeout(30)
class ReloadTest {
  private static GatehouseConfig config(String yaml) throws Exception {
    return ConfigLoader.parse(yaml, "test.yaml", Map.of());
  }

  private static RawResponse get(RawHttpClient client) throws Exception {
    return client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n").readResponse();
  }

  @Test
  void reloadSwitchesRoutesAndListenersWithoutTouchingKeptSockets() throws Exception {
    int portA = FreePorts.take();
    int portB = FreePorts.take();
    try (FakeUpstream blue = FakeUpstream.start("blue"); FakeUpstream green = FakeUpstream.start("green")) {
      GatehouseServer proxy = GatehouseServer.start(config("""
          admin: { bind: 127.0.0.1:0 }
          listeners: [ { name: a, bind: 127.0.0.1:%d, mode: reverse } ]
          routes: [ { name: all, cluster: blue } ]
          clusters: [ { name: blue, endpoints: [ "%s" ] }, { name: green, endpoints: [ "%s" ] } ]
          """.formatted(portA, blue.address(), green.address())));
      try (RawHttpClient keepAlive = RawHttpClient.connect(portA)) {
        assertThat(get(keepAlive).header("x-upstream")).isEqualTo("blue");

        proxy.reload(config("""
            admin: { bind: 127.0.0.1:0 }
            listeners:
              - { name: a, bind: 127.0.0.1:%d, mode: reverse }
              - { name: b, bind: 127.0.0.1:%d, mode: reverse }
            routes: [ { name: all, cluster: green } ]
            clusters: [ { name: blue, endpoints: [ "%s" ] }, { name: green, endpoints: [ "%s" ] } ]
            """.formatted(portA, portB, blue.address(), green.address())));
        assertThat(proxy.generation()).isEqualTo(2);
        assertThat(get(keepAlive).header("x-upstream")).as("same connection, new route").isEqualTo("green");
        try (RawHttpClient onB = RawHttpClient.connect(portB)) {
          assertThat(get(onB).header("x-upstream")).isEqualTo("green");
        }

        proxy.reload(config("""
            admin: { bind: 127.0.0.1:0 }
            listeners: [ { name: b, bind: 127.0.0.1:%d, mode: reverse } ]
            routes: [ { name: all, cluster: green } ]
            clusters: [ { name: green, endpoints: [ "%s" ] } ]
            """.formatted(portB, green.address())));
        await().atMost(Duration.ofSeconds(5)).until(keepAlive::isClosedByPeer);
        assertThatThrownBy(() -> RawHttpClient.connect(portA)).isInstanceOf(java.net.ConnectException.class);
      } finally {
        proxy.close();
      }
    }
  }

  @Test
  void failedReloadKeepsTheRunningConfig() throws Exception {
    try (FakeUpstream blue = FakeUpstream.start("blue"); ServerSocket taken = new ServerSocket(0)) {
      GatehouseServer proxy = GatehouseServer.start(config("""
          admin: { bind: 127.0.0.1:0 }
          listeners: [ { name: a, bind: 127.0.0.1:0, mode: reverse } ]
          routes: [ { name: all, cluster: blue } ]
          clusters: [ { name: blue, endpoints: [ "%s" ] } ]
          """.formatted(blue.address())));
      try {
        int port = proxy.address("a").getPort();
        assertThatThrownBy(() -> proxy.reload(config("""
            admin: { bind: 127.0.0.1:0 }
            listeners:
              - { name: a, bind: 127.0.0.1:0, mode: reverse }
              - { name: clash, bind: 127.0.0.1:%d, mode: reverse }
            routes: [ { name: all, cluster: blue } ]
            clusters: [ { name: blue, endpoints: [ "127.0.0.1:9" ] } ]
            """.formatted(taken.getLocalPort())))).hasMessageContaining("clash");
        assertThat(proxy.generation()).isEqualTo(1);
        try (RawHttpClient client = RawHttpClient.connect(port)) {
          assertThat(get(client).header("x-upstream")).isEqualTo("blue");
        }
      } finally {
        proxy.close();
      }
    }
  }
}
