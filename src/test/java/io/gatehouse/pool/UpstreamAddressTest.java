package io.gatehouse.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.config.HostPort;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/**
 * Upstream connects to an IP literal skip the resolver (the address is already what it would
 * answer); a host name still goes through it.
 */
class UpstreamAddressTest {

  @Test
  void anIpLiteralIsConnectedToAsItIs() {
    InetSocketAddress v4 = UpstreamPools.remote(new HostPort("127.0.0.1", 8080));
    assertThat(v4.isUnresolved()).isFalse();
    assertThat(v4.getAddress().getHostAddress()).isEqualTo("127.0.0.1");
    assertThat(v4.getPort()).isEqualTo(8080);

    InetSocketAddress v6 = UpstreamPools.remote(new HostPort("::1", 443));
    assertThat(v6.isUnresolved()).isFalse();
    assertThat(v6.getAddress().isLoopbackAddress()).isTrue();
  }

  @Test
  void aHostNameIsLeftToTheResolver() {
    InetSocketAddress name = UpstreamPools.remote(new HostPort("origin.example", 80));
    assertThat(name.isUnresolved()).isTrue();
    assertThat(name.getHostString()).isEqualTo("origin.example");
  }

  @Test
  void literalsAreReadAsTheResolverReadsThem() {
    assertThat(UpstreamPools.ipLiteral("[::1]").isLoopbackAddress()).isTrue();
    // an IPv4-mapped IPv6 literal is the IPv4 address, as InetAddress.getByAddress makes it
    assertThat(UpstreamPools.ipLiteral("::ffff:10.0.0.1")).isInstanceOf(Inet4Address.class);
    assertThat(UpstreamPools.ipLiteral("10.0.0.1.example")).isNull();
    assertThat(UpstreamPools.ipLiteral("localhost")).isNull();
  }
}
