package io.gatehouse.pool;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.config.ProxyProtocolVersion;
import io.gatehouse.http.ClientAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The bytes {@link ProxyHeader} writes first, for each family and version (HAProxy's spec, 2.1 and 2.2). */
class ProxyHeaderTest {
  private static final String SIGNATURE = "0d0a0d0a000d0a515549540a";

  @Test
  void v1_tcp4_line_then_the_request() throws Exception {
    EmbeddedChannel ch = connection(ProxyProtocolVersion.V1, "203.0.113.7", 51234, "192.0.2.1", 80);
    ch.writeOutbound(Unpooled.copiedBuffer("GET / HTTP/1.1\r\n\r\n", StandardCharsets.US_ASCII));
    assertThat(text(ch.readOutbound())).isEqualTo("PROXY TCP4 203.0.113.7 192.0.2.1 51234 80\r\n");
    assertThat(text(ch.readOutbound())).isEqualTo("GET / HTTP/1.1\r\n\r\n");
    assertThat(ch.pipeline().get(ProxyHeader.NAME)).isNull();
    assertThat(ch.pipeline().get(ProxyHeader.ENCODER)).isNull();
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void v2_tcp4_from_an_ipv4_mapped_destination() throws Exception {
    // A dual-stack listener may name its own address ::ffff:a.b.c.d: still TCP over IPv4.
    EmbeddedChannel ch = connection(ProxyProtocolVersion.V2, "203.0.113.7", 51234, "::ffff:192.0.2.1", 80);
    assertThat(hex(ch.readOutbound())).isEqualTo(SIGNATURE + "21" + "11" + "000c"
        + "cb007107" + "c0000201" + "c822" + "0050");
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void v2_tcp6_maps_an_ipv4_end_when_the_other_is_ipv6() throws Exception {
    EmbeddedChannel ch = connection(ProxyProtocolVersion.V2, "203.0.113.7", 51234, "2001:db8::1", 443);
    assertThat(hex(ch.readOutbound())).isEqualTo(SIGNATURE + "21" + "21" + "0024"
        + "00000000000000000000ffffcb007107" + "20010db8000000000000000000000001" + "c822" + "01bb");
    assertThat(ch.finishAndReleaseAll()).isFalse();
  }

  @Test
  void probes_send_local_or_unknown() {
    EmbeddedChannel v2 = new EmbeddedChannel(ProxyHeader.local(ProxyProtocolVersion.V2).before(new ChannelInboundHandlerAdapter()));
    assertThat(hex(v2.readOutbound())).isEqualTo(SIGNATURE + "20" + "00" + "0000");
    assertThat(v2.finishAndReleaseAll()).isFalse();
    EmbeddedChannel v1 = new EmbeddedChannel(ProxyHeader.local(ProxyProtocolVersion.V1).before(new ChannelInboundHandlerAdapter()));
    assertThat(text(v1.readOutbound())).isEqualTo("PROXY UNKNOWN\r\n");
    assertThat(v1.finishAndReleaseAll()).isFalse();
  }

  private static EmbeddedChannel connection(ProxyProtocolVersion version, String source, int sourcePort,
      String destination, int destinationPort) throws Exception {
    EmbeddedChannel client = new EmbeddedChannel();
    ClientAddress address = ClientAddress.fromProxyHeader(client,
        new InetSocketAddress(InetAddress.getByName(source), sourcePort),
        new InetSocketAddress(InetAddress.getByName(destination), destinationPort));
    client.finishAndReleaseAll();
    return new EmbeddedChannel(ProxyHeader.forClient(version, address).before(new ChannelInboundHandlerAdapter()));
  }

  private static String text(Object msg) {
    ByteBuf buf = (ByteBuf) msg;
    try {
      return buf.toString(StandardCharsets.US_ASCII);
    } finally {
      buf.release();
    }
  }

  private static String hex(Object msg) {
    ByteBuf buf = (ByteBuf) msg;
    try {
      return ByteBufUtil.hexDump(buf);
    } finally {
      buf.release();
    }
  }
}
