package io.gatehouse.forward;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.ForwardConfig;
import io.gatehouse.config.GatehouseConfig;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

/** {@code gatehouse run} without -c: a forward proxy for this machine only, private targets blocked. */
class EmbeddedDefaultTest {
  @Test
  void servesLoopbackClientsOnlyAndBlocksPrivateDestinations() throws Exception {
    GatehouseConfig config = ConfigLoader.embeddedDefault();
    ForwardConfig forward = config.listeners().get(0).forward();
    AccessPolicy policy = AccessPolicy.compile(forward);

    AccessDecision local = policy.decide(
        new AccessPolicy.Request(InetAddress.getByName("127.0.0.1"), "example.com", 80, "GET", null));
    assertThat(local).isInstanceOf(AccessDecision.Allow.class);
    assertThat(((AccessDecision.Allow) local).destinationListed()).isFalse(); // so private targets stay blocked
    assertThat(policy.decide(new AccessPolicy.Request(InetAddress.getByName("::1"), "example.com", 443, "CONNECT", null)))
        .isInstanceOf(AccessDecision.Allow.class);
    assertThat(policy.decide(new AccessPolicy.Request(InetAddress.getByName("10.0.0.8"), "example.com", 80, "GET", null)))
        .isEqualTo(new AccessDecision.Deny("default"));
    assertThat(forward.blockPrivateDestinations()).isTrue();
    assertThat(forward.connectPorts()).containsExactly(443);
    assertThat(config.listeners().get(0).bind().toString()).isEqualTo("127.0.0.1:3128");
  }
}
