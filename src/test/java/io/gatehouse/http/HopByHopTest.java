package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class HopByHopTest {
  @Test
  void removes_fixed_and_connection_named_fields() {
    HttpHeaders headers = new DefaultHttpHeaders()
        .add("Connection", "close, X-A")
        .add("Connection", "x-b,,")
        .add("X-A", "1").add("X-B", "2").add("X-C", "3")
        .add("Keep-Alive", "timeout=5").add("Proxy-Connection", "keep-alive").add("TE", "trailers")
        .add("Trailer", "X-Sum").add("Transfer-Encoding", "chunked").add("Upgrade", "websocket");
    HopByHop.strip(headers);
    assertThat(headers.names()).containsExactly("X-C");
  }

  @Test
  void connection_token_lookup_ignores_case() {
    HttpHeaders headers = new DefaultHttpHeaders().add("Connection", "Keep-Alive, Upgrade");
    int flags = HopByHop.scan(headers);
    assertThat(flags & HopByHop.CONNECTION_UPGRADE).as("upgrade").isNotZero();
    assertThat(flags & HopByHop.CONNECTION_CLOSE).as("close").isZero();
  }

  @Test
  void forwarded_quotes_ipv6_and_odd_hosts() throws Exception {
    HttpHeaders headers = new DefaultHttpHeaders();
    ClientIdentity.addForwarded(MessageFields.of(headers), InetAddress.getByName("::1").getHostAddress(), "https", "shop.test:8443");
    assertThat(headers.get("Forwarded")).isEqualTo("for=\"[0:0:0:0:0:0:0:1]\";proto=https;host=\"shop.test:8443\"");
  }

  @Test
  void x_forwarded_for_appends_to_a_chain() throws Exception {
    HttpHeaders headers = new DefaultHttpHeaders().add("X-Forwarded-For", "198.51.100.1");
    ClientIdentity.addXForwarded(MessageFields.of(headers), InetAddress.getByName("10.1.2.3").getHostAddress(), "http", "a.test");
    assertThat(headers.get("X-Forwarded-For")).isEqualTo("198.51.100.1, 10.1.2.3");
    assertThat(headers.get("X-Forwarded-Proto")).isEqualTo("http");
    assertThat(headers.get("X-Forwarded-Host")).isEqualTo("a.test");
  }

  @org.junit.jupiter.api.Test
  void scan_reads_every_framing_fact_in_one_pass() {
    HttpHeaders h = new DefaultHttpHeaders()
        .add("Connection", "Keep-Alive, Upgrade").add("Upgrade", "websocket")
        .add("Transfer-Encoding", "gzip, chunked").add("Host", "a");
    int flags = HopByHop.scan(h);
    assertThat(HopByHop.keepAlive(flags, true)).isTrue();
    assertThat(HopByHop.keepAlive(flags, false)).isTrue();
    assertThat(HopByHop.upgradeOffered(flags)).isTrue();
    assertThat(flags & HopByHop.CHUNKED).isNotZero();
    assertThat(flags & HopByHop.CONTENT_LENGTH).isZero();
    int close = HopByHop.scan(new DefaultHttpHeaders().add("connection", "close").add("Content-Length", "3"));
    assertThat(HopByHop.keepAlive(close, false)).isFalse();
    assertThat(close & HopByHop.CONTENT_LENGTH).isNotZero();
    assertThat(HopByHop.keepAlive(HopByHop.scan(new DefaultHttpHeaders()), true)).as("1.0 default").isFalse();
    assertThat(HopByHop.keepAlive(HopByHop.scan(new DefaultHttpHeaders()), false)).as("1.1 default").isTrue();
  }
}
