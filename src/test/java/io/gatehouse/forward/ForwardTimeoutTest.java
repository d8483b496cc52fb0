package io.gatehouse.forward;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.Reply;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code forward.timeouts.response}: an origin that does not answer in time gets the client a 504. */
@Timeout(30)
class ForwardTimeoutTest {
  @Test
  void slowOriginGets504WithinTheConfiguredResponseTimeout() throws Exception {
    try (FakeUpstream origin = FakeUpstream.start("slow");
        ProxyUnderTest proxy = ProxyUnderTest.start("""
            rules:
              - allow: { name: local-origins, hosts: ["127.0.0.1"] }
            timeouts: { connect: 2s, response: 300ms }
            """);
        RawHttpClient client = RawHttpClient.connect(proxy.port())) {
      origin.respond(head -> Reply.slow(Duration.ofSeconds(5)));
      long start = System.nanoTime();
      client.send("GET http://127.0.0.1:" + origin.port() + "/ HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(504);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
    }
  }
}
