package io.gatehouse.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatehouse.testing.Curl;
import io.gatehouse.testing.CurlResult;
import io.gatehouse.testing.FakeUpstream;
import io.gatehouse.testing.ProxyUnderTest;
import io.gatehouse.testing.RawHttpClient;
import io.gatehouse.testing.RawResponse;
import io.gatehouse.testing.RecordedRequest;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * HTTP/2 with prior knowledge (RFC 9113 §3.3) on a cleartext listener with {@code http2.cleartext},
 * with a real HTTP/2 client (curl {@code --http2-prior-knowledge}); HTTP/1.1 on the same listener;
 * {@code Upgrade: h2c} never honoured nor forwarded; without the option the preface is refused.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class H2cPriorKnowledgeTest {
  private static final String PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  private FakeUpstream upstream;
  private ProxyUnderTest proxy;

  @BeforeAll
  void start() throws Exception {
    upstream = FakeUpstream.start("origin");
    proxy = ProxyUnderTest.start("""
        listeners:
          - { name: h2c, bind: 127.0.0.1:0, mode: reverse, http2: { cleartext: true } }
          - { name: plain, bind: 127.0.0.1:0, mode: reverse }
        routes: [ { name: all, cluster: origin } ]
        clusters: [ { name: origin, endpoints: ["${ORIGIN}"] } ]
        limits: { headerTimeout: 500ms }
        """, Map.of("ORIGIN", upstream.address()));
  }

  @AfterAll
  void stop() {
    proxy.close();
    upstream.close();
  }

  @BeforeEach
  void clear() {
    upstream.clearRequests();
  }

  private String url(String listener, String path) {
    return "http://127.0.0.1:" + proxy.port(listener) + path;
  }

  @Test
  void prior_knowledge_client_gets_http2() {
    CurlResult r = Curl.get(url("h2c", "/one")).args("--http2-prior-knowledge", "-i").run();
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    assertThat(r.stdout()).startsWith("HTTP/2 200");
    assertThat(r.stdout()).endsWith("origin");
    RecordedRequest seen = upstream.lastRequest();
    assertThat(seen.uri()).isEqualTo("/one");
    assertThat(seen.protocolVersion()).isEqualTo("HTTP/1.1");
    assertThat(seen.header("Host")).isEqualTo("127.0.0.1:" + proxy.port("h2c"));
    assertThat(seen.header("Via")).isEqualTo("2.0 gatehouse"); // the received protocol (RFC 9110 §7.6.3)
  }

  /**
   * Several concurrent streams on one prior-knowledge connection, from Netty's HTTP/2 client (curl
   * 7.88 cannot reuse an h2c connection: curl/curl#10634).
   */
  @Test
  void concurrent_streams_on_one_prior_knowledge_connection() throws Exception {
    io.netty.channel.EventLoopGroup group = new io.netty.channel.MultiThreadIoEventLoopGroup(1,
        io.netty.channel.nio.NioIoHandler.newFactory());
    try {
      io.netty.channel.Channel connection = new io.netty.bootstrap.Bootstrap().group(group)
          .channel(io.netty.channel.socket.nio.NioSocketChannel.class)
          .handler(new io.netty.channel.ChannelInitializer<io.netty.channel.Channel>() {
            @Override
            protected void initChannel(io.netty.channel.Channel ch) {
              ch.pipeline().addLast(io.netty.handler.codec.http2.Http2FrameCodecBuilder.forClient().build(),
                  new io.netty.handler.codec.http2.Http2MultiplexHandler(new io.netty.channel.ChannelInboundHandlerAdapter()));
            }
          })
          .connect("127.0.0.1", proxy.port("h2c")).sync().channel();
      java.util.List<java.util.concurrent.CompletableFuture<String>> statuses = new java.util.ArrayList<>();
      for (int i = 0; i < 3; i++) {
        java.util.concurrent.CompletableFuture<String> status = new java.util.concurrent.CompletableFuture<>();
        statuses.add(status);
        io.netty.handler.codec.http2.Http2StreamChannel stream =
            new io.netty.handler.codec.http2.Http2StreamChannelBootstrap(connection)
                .handler(new io.netty.channel.SimpleChannelInboundHandler<io.netty.handler.codec.http2.Http2HeadersFrame>() {
                  @Override
                  protected void channelRead0(io.netty.channel.ChannelHandlerContext ctx,
                      io.netty.handler.codec.http2.Http2HeadersFrame frame) {
                    if (frame.headers().status() != null) {
                      status.complete(frame.headers().status().toString());
                    }
                  }
                })
                .open().sync().getNow();
        io.netty.handler.codec.http2.Http2Headers headers = new io.netty.handler.codec.http2.DefaultHttp2Headers()
            .method("GET").path("/s" + i).scheme("http").authority("a");
        stream.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2HeadersFrame(headers, true));
      }
      for (java.util.concurrent.CompletableFuture<String> status : statuses) {
        assertThat(status.get(10, TimeUnit.SECONDS)).isEqualTo("200");
      }
      connection.close().sync();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
    assertThat(upstream.requests()).extracting(RecordedRequest::uri).containsExactlyInAnyOrder("/s0", "/s1", "/s2");
  }

  @Test
  void http1_clients_still_work_on_the_h2c_listener() throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(proxy.port("h2c"))) {
      client.send("GET /h1 HTTP/1.1\r\nHost: a\r\n\r\nGET /h1-again HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(200);
      assertThat(client.readResponse().status()).isEqualTo(200);
    }
    assertThat(upstream.requests()).extracting(RecordedRequest::uri).containsExactly("/h1", "/h1-again");
    assertThat(upstream.requests()).extracting(r -> r.header("Via")).containsOnly("1.1 gatehouse");
  }

  /** RFC 7540 §3.2 upgrade: a smuggling vector (the upstream would speak h2c past the proxy); dropped. */
  @Test
  void upgrade_to_h2c_is_served_as_http1_and_not_forwarded() throws Exception {
    for (String listener : new String[] {"h2c", "plain"}) {
      try (RawHttpClient client = RawHttpClient.connect(proxy.port(listener))) {
        client.send("GET /up HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
            + "HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n");
        RawResponse response = client.readResponse();
        assertThat(response.status()).as(listener).isEqualTo(200);
        assertThat(response.version()).as(listener).isEqualTo("HTTP/1.1");
      }
      RecordedRequest seen = upstream.lastRequest();
      assertThat(seen.header("Upgrade")).as(listener).isNull();
      assertThat(seen.header("HTTP2-Settings")).as(listener).isNull();
      assertThat(seen.header("Connection")).as(listener).satisfiesAnyOf(
          c -> assertThat(c).isNull(), c -> assertThat(c).doesNotContainIgnoringCase("upgrade"));
    }
  }

  @Test
  void without_the_option_the_preface_is_refused() throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(proxy.port("plain"))) {
      client.send(PREFACE);
      RawResponse response = client.readResponse();
      assertThat(response.status()).isEqualTo(505); // HTTP/2.0 on an HTTP/1.1-only listener, as before
      client.readAllUntilClose();
    }
    assertThat(upstream.requests()).isEmpty();
  }

  @Test
  void a_preface_that_stalls_is_closed() throws Exception {
    try (RawHttpClient client = RawHttpClient.connect("127.0.0.1", proxy.port("h2c"), Duration.ofSeconds(10))) {
      client.send(PREFACE.substring(0, 10));
      assertThat(client.readAllUntilClose()).isEmpty();
    }
  }
}
