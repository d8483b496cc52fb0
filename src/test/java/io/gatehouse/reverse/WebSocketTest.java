package io.gatehouse.reverse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gatehouse.config.ConfigLoader;
import io.gatehouse.lifecycle.GatehouseServer;
import io.gatehouse.testing.RawHttpClient;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** WebSocket (HTTP/1.1 Upgrade, 101) through the reverse proxy becomes a byte tunnel. */
@Timeout(30)
class WebSocketTest {
  private EventLoopGroup group;
  private Channel echoServer;
  private GatehouseServer proxy;

  @BeforeEach
  void start() throws Exception {
    group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    echoServer = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(65536),
                new WebSocketServerProtocolHandler("/ws", null, false, 65536, false, true),
                new SimpleChannelInboundHandler<TextWebSocketFrame>() {
                  @Override
                  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
                    // a server that speaks first: its frame leaves right behind the 101
                    if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete h
                        && h.requestUri().equals("/ws/greet")) {
                      ctx.writeAndFlush(new TextWebSocketFrame("hello from the origin"));
                    }
                    super.userEventTriggered(ctx, evt);
                  }

                  @Override
                  protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame frame) {
                    ctx.writeAndFlush(new TextWebSocketFrame("echo: " + frame.text()));
                  }
                },
                new SimpleChannelInboundHandler<io.netty.handler.codec.http.FullHttpRequest>() {
                  @Override
                  protected void channelRead0(ChannelHandlerContext ctx, io.netty.handler.codec.http.FullHttpRequest r) {
                    io.netty.handler.codec.http.FullHttpResponse response =
                        new io.netty.handler.codec.http.DefaultFullHttpResponse(
                            io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
                            io.netty.handler.codec.http.HttpResponseStatus.NOT_FOUND);
                    response.headers().setInt("content-length", 0);
                    ctx.writeAndFlush(response);
                  }
                });
          }
        }).bind("127.0.0.1", 0).sync().channel();
    int port = ((InetSocketAddress) echoServer.localAddress()).getPort();
    proxy = GatehouseServer.start(ConfigLoader.parse("""
        admin: { bind: 127.0.0.1:0 }
        accessLog: { enabled: false }
        listeners: [ { name: web, bind: 127.0.0.1:0, mode: reverse } ]
        routes: [ { name: all, cluster: ws } ]
        clusters: [ { name: ws, endpoints: [ "127.0.0.1:%d" ] } ]
        """.formatted(port), "test.yaml", Map.of()));
  }

  @AfterEach
  void stop() throws Exception {
    proxy.close();
    echoServer.close().sync();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
  }

  @Test
  void messagesFlowBothWaysThroughTheProxy() throws Exception {
    List<String> received = new CopyOnWriteArrayList<>();
    WebSocket.Listener listener = new WebSocket.Listener() {
      @Override
      public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        received.add(data.toString());
        ws.request(1);
        return CompletableFuture.completedFuture(null);
      }
    };
    URI uri = URI.create("ws://127.0.0.1:" + proxy.address("web").getPort() + "/ws");
    WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
        .buildAsync(uri, listener).get(10, TimeUnit.SECONDS);
    for (int i = 0; i < 3; i++) {
      ws.sendText("hello " + i, true).get(5, TimeUnit.SECONDS);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> received.size() == 3);
    assertThat(received).containsExactly("echo: hello 0", "echo: hello 1", "echo: hello 2");
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(5)).until(() -> proxy.metrics().requests("web", "all", "ws", 101) == 1);
  }

  /**
   * The origin's first frame often arrives with the 101 itself: those bytes must go to the client
   * as tunnel bytes, not through the client's HTTP encoder (which refuses them and closes).
   */
  @Test
  void aFrameSentRightAfterThe101ReachesTheClient() throws Exception {
    List<String> received = new CopyOnWriteArrayList<>();
    WebSocket.Listener listener = new WebSocket.Listener() {
      @Override
      public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        received.add(data.toString());
        ws.request(1);
        return CompletableFuture.completedFuture(null);
      }
    };
    URI uri = URI.create("ws://127.0.0.1:" + proxy.address("web").getPort() + "/ws/greet");
    for (int attempt = 0; attempt < 5; attempt++) {
      received.clear();
      WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
          .buildAsync(uri, listener).get(10, TimeUnit.SECONDS);
      ws.sendText("after", true).get(5, TimeUnit.SECONDS);
      await().atMost(Duration.ofSeconds(5)).until(() -> received.size() == 2);
      assertThat(received).containsExactly("hello from the origin", "echo: after");
      ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void upgradeRefusedByTheUpstreamStaysHttp() throws Exception {
    try (RawHttpClient client = RawHttpClient.connect(proxy.address("web").getPort())) {
      client.send("GET /not-ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
      assertThat(client.readResponse().status()).isEqualTo(404);
      client.send("GET /again HTTP/1.1\r\nHost: a\r\n\r\n");
      assertThat(client.readResponse().status()).as("the connection still speaks HTTP").isEqualTo(404);
    }
  }
}
