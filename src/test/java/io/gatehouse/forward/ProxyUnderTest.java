package io.gatehouse.forward;

import io.gatehouse.config.ConfigLoader;
import io.gatehouse.lifecycle.GatehouseServer;
import java.time.Duration;
import java.util.Map;

/** A Gatehouse with one forward listener {@code egress} on 127.0.0.1:0, from an inline forward block. */
final class ProxyUnderTest implements AutoCloseable {
  final GatehouseServer server;
  private boolean stopped;

  private ProxyUnderTest(GatehouseServer server) {
    this.server = server;
  }

  /** {@code forwardBlock}: the lines under {@code forward:}, indented by 6 spaces. */
  static ProxyUnderTest start(String forwardBlock) throws Exception {
    return startYaml("""
        admin: { bind: 127.0.0.1:0 }
        listeners:
          - name: egress
            bind: 127.0.0.1:0
            mode: forward
            forward:
        """ + forwardBlock.stripIndent().lines().map(l -> "      " + l).reduce("", (a, b) -> a + b + "\n"));
  }

  static ProxyUnderTest startYaml(String yaml) throws Exception {
    return new ProxyUnderTest(GatehouseServer.start(ConfigLoader.parse(yaml, "test.yaml", Map.of())));
  }

  int port() {
    return server.address("egress").getPort();
  }

  /** "127.0.0.1:port", for {@code curl -x}. */
  String address() {
    return "127.0.0.1:" + port();
  }

  /** A graceful stop whose drain ends at {@code deadline}; {@link #close} then does nothing. */
  void stop(Duration deadline) {
    stopped = true;
    server.stop(deadline);
  }

  @Override
  public void close() {
    if (!stopped) {
      server.stop(Duration.ofSeconds(1));
    }
  }
}
