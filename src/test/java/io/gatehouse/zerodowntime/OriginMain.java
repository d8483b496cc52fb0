package io.gatehouse.zerodowntime;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The origin of the zero-downtime suite, run as its own process so that it can be switched away
 * from and killed with {@code kill -9}: {@code java ... OriginMain NAME}. Prints
 * {@code ORIGIN LISTENING <port>} once bound on 127.0.0.1 (port 0).
 *
 * <ul>
 *   <li>{@code GET /req}: 200, body {@code ok NAME}, header {@code X-Origin: NAME}.</li>
 *   <li>{@code GET /download?bytes=B&ms=T}: B bytes with {@code Content-Length}, written in 20 parts
 *       over T ms; byte {@code i} is {@code i % 251} so a client can tell a gap from a short body.</li>
 *   <li>{@code /ws}: WebSocket echo; the first message the origin sends is {@code origin NAME}.</li>
 *   <li>{@code GET /_inflight}: {@code http N ws M}, what is open here now (asked directly, not
 *       through the proxy): how a drain is seen to be complete before the kill.</li>
 * </ul>
 */
public final class OriginMain {
  static final String ORIGIN_HEADER = "X-Origin";
  static final String LISTENING = "ORIGIN LISTENING ";
  private static final int DOWNLOAD_PARTS = 20;

  private final String name;
  private final AtomicInteger httpInFlight = new AtomicInteger();
  private final AtomicInteger webSockets = new AtomicInteger();

  private OriginMain(String name) {
    this.name = name;
  }

  public static void main(String[] args) throws InterruptedException {
    new OriginMain(args[0]).serve();
  }

  private void serve() throws InterruptedException {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    Channel server = new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024),
                new WebSocketServerProtocolHandler("/ws"), new WebSocketEcho(), new Requests());
          }
        })
        .bind("127.0.0.1", 0).sync().channel();
    System.out.println(LISTENING + ((java.net.InetSocketAddress) server.localAddress()).getPort());
    System.out.flush();
    server.closeFuture().sync();
  }

  /** Echoes text frames; announces the origin first so the client can attribute a cut. */
  private final class WebSocketEcho extends SimpleChannelInboundHandler<TextWebSocketFrame> {
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
        webSockets.incrementAndGet();
        ctx.channel().closeFuture().addListener(f -> webSockets.decrementAndGet());
        ctx.writeAndFlush(new TextWebSocketFrame("origin " + name));
      }
      super.userEventTriggered(ctx, evt);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame frame) {
      ctx.writeAndFlush(new TextWebSocketFrame(frame.text()));
    }
  }

  /** Plain requests: {@code /req}, {@code /download}, {@code /_inflight}. */
  private final class Requests extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      QueryStringDecoder query = new QueryStringDecoder(request.uri());
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      switch (query.path()) {
        case "/_inflight" -> reply(ctx, keepAlive, HttpResponseStatus.OK,
            "http " + httpInFlight.get() + " ws " + webSockets.get() + "\n", false);
        case "/req" -> reply(ctx, keepAlive, HttpResponseStatus.OK, "ok " + name + "\n", true);
        case "/download" -> download(ctx, keepAlive,
            Long.parseLong(query.parameters().get("bytes").get(0)),
            Long.parseLong(query.parameters().get("ms").get(0)));
        default -> reply(ctx, keepAlive, HttpResponseStatus.NOT_FOUND, "not found\n", false);
      }
    }

    private void reply(ChannelHandlerContext ctx, boolean keepAlive, HttpResponseStatus status, String body,
        boolean counted) {
      FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
          Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
      response.headers().set(ORIGIN_HEADER, name)
          .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
      HttpUtil.setKeepAlive(response, keepAlive);
      if (counted) {
        httpInFlight.incrementAndGet();
      }
      ctx.writeAndFlush(response).addListener(f -> {
        if (counted) {
          httpInFlight.decrementAndGet();
        }
        if (!keepAlive) {
          ctx.close();
        }
      });
    }

    private void download(ChannelHandlerContext ctx, boolean keepAlive, long bytes, long millis) {
      httpInFlight.incrementAndGet();
      HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
      head.headers().set(ORIGIN_HEADER, name).set(HttpHeaderNames.CONTENT_LENGTH, bytes);
      HttpUtil.setKeepAlive(head, keepAlive);
      ctx.writeAndFlush(head);
      // Once per download, whichever comes first: the last byte written or the connection closing.
      AtomicBoolean done = new AtomicBoolean();
      Runnable finish = () -> {
        if (done.compareAndSet(false, true)) {
          httpInFlight.decrementAndGet();
        }
      };
      ctx.channel().closeFuture().addListener(f -> finish.run());
      writePart(ctx, keepAlive, 0, bytes, Math.max(1, millis / DOWNLOAD_PARTS), finish);
    }

    private void writePart(ChannelHandlerContext ctx, boolean keepAlive, long offset, long total, long delayMillis,
        Runnable finish) {
      if (!ctx.channel().isActive()) {
        return;
      }
      long partSize = Math.max(1, (total + DOWNLOAD_PARTS - 1) / DOWNLOAD_PARTS);
      int size = (int) Math.min(partSize, total - offset);
      ByteBuf part = ctx.alloc().buffer(size);
      for (long i = offset; i < offset + size; i++) {
        part.writeByte((int) (i % 251));
      }
      long next = offset + size;
      if (next >= total) {
        ctx.write(new DefaultHttpContent(part));
        ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(f -> {
          finish.run();
          if (!keepAlive) {
            ctx.close();
          }
        });
        return;
      }
      ctx.writeAndFlush(new DefaultHttpContent(part)).addListener((ChannelFutureListener) f -> {
        if (f.isSuccess()) {
          ctx.executor().schedule(() -> writePart(ctx, keepAlive, next, total, delayMillis, finish),
              delayMillis, TimeUnit.MILLISECONDS);
        }
      });
    }
  }
}
