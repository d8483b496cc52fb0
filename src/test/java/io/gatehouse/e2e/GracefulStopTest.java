package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.Reply;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Graceful stop (SIGTERM): stop accepting, finish what is in flight, close idle connections. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class GracefulStopTest {
  private FakeUpstream upstream;
  private ProxyUnderTest proxy;

  @BeforeEach
  void start() throws Exception {
    upstream = FakeUpstream.start("origin");
    // closeSpread 1 s: both connections' drain slots (0 and 0.5 s) come before the slow response
    // (2.5 s), which must then say Connection: close; with the 5 s default the busy connection's
    // slot (2.5 s) races its response.
    proxy = ProxyUnderTest.start("""
        limits: { closeSpread: 1s }
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes: [ { name: all, cluster: origin } ]
        clusters: [ { name: origin, endpoints: ["${ORIGIN}"] } ]
        """, Map.of("ORIGIN", upstream.address()));
  }

  @AfterEach
  void stop() {
    proxy.close();
    upstream.close();
  }

  private static boolean refuses(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      return false;
    } catch (ConnectException e) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void in_flight_exchange_finishes_while_new_connections_are_refused() throws Exception {
    int port = proxy.port();
    upstream.respond(head -> head.uri().equals("/slow")
        ? Reply.ok().body("finished").firstByteDelay(Duration.ofMillis(2500))
        : Reply.ok());
    try (RawHttpClient idle = proxy.connect(); RawHttpClient busy = proxy.connect()) {
      idle.send("GET /warm HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(idle.readResponse().status()).isEqualTo(200);
      busy.send("GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
      await().atMost(Duration.ofSeconds(5)).until(() -> upstream.requests().size() == 2);

      CompletableFuture<Void> stopping = CompletableFuture.runAsync(() -> proxy.stop(Duration.ofSeconds(5)));
      await().atMost(Duration.ofSeconds(5)).until(() -> refuses(port));
      await().atMost(Duration.ofSeconds(5)).until(idle::isClosedByPeer);
      assertThat(stopping).as("stop waits for the in-flight exchange").isNotDone();

      RawResponse response = busy.readResponse();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.bodyAsString()).isEqualTo("finished");
      assertThat(response.header("Connection")).isEqualToIgnoringCase("close");
      assertThat(busy.readAllUntilClose()).isEmpty();
      stopping.get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void exchanges_still_running_at_the_deadline_are_cut() throws Exception {
    upstream.respond(head -> Reply.hang());
    try (RawHttpClient client = proxy.connect()) {
      client.send("GET /hang HTTP/1.1\r\nHost: a\r\n\r\n");
      await().atMost(Duration.ofSeconds(5)).until(() -> upstream.openConnections() == 1);
      proxy.stop(Duration.ofMillis(300));
      assertThat(client.readAllUntilClose()).isEmpty();
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> upstream.openConnections() == 0);
  }
}
