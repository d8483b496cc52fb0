package io.gatehouse.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The admin HTTP API on its own listener: {@code /metrics}, {@code /health}, {@code /ready},
 * {@code POST /api/v1/reload}. A bearer token is required when one is configured. Requests are
 * small, so they are aggregated (unlike the proxy path).
 */
public final class AdminServer {
  private final Channel channel;

  private AdminServer(Channel channel) {
    this.channel = channel;
  }

  public static AdminServer start(
      InetSocketAddress bind, String token, EventLoopGroup group, Class<? extends ServerChannel> type,
      AdminBackend backend) throws InterruptedException {
    Channel ch = new ServerBootstrap().group(group).channel(type)
        .childHandler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel c) {
            c.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024), new Handler(token, backend));
          }
        })
        .bind(bind).sync().channel();
    return new AdminServer(ch);
  }

  public InetSocketAddress localAddress() {
    return (InetSocketAddress) channel.localAddress();
  }

  public void close() {
    channel.close().syncUninterruptibly();
  }

  private static final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final String token;
    private final AdminBackend backend;

    Handler(String token, AdminBackend backend) {
      this.token = token;
      this.backend = backend;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      String path = request.uri();
      int q = path.indexOf('?');
      if (q >= 0) {
        path = path.substring(0, q);
      }
      if (token != null && !("Bearer " + token).equals(request.headers().get(HttpHeaderNames.AUTHORIZATION))) {
        send(ctx, request, HttpResponseStatus.UNAUTHORIZED, "text/plain", "missing or wrong bearer token\n");
        return;
      }
      boolean get = HttpMethod.GET.equals(request.method());
      boolean post = HttpMethod.POST.equals(request.method());
      if (get && path.equals("/metrics")) {
        send(ctx, request, HttpResponseStatus.OK, "text/plain; version=0.0.4; charset=utf-8", backend.metricsText());
      } else if (get && path.equals("/health")) {
        send(ctx, request, HttpResponseStatus.OK, "application/json", "{\"status\":\"up\"}\n");
      } else if (get && path.equals("/ready")) {
        boolean ready = backend.ready();
        send(ctx, request, ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
            "application/json", "{\"ready\":" + ready + "}\n");
      } else if (post && path.equals("/api/v1/reload")) {
        String problems = backend.reload();
        if (problems == null) {
          send(ctx, request, HttpResponseStatus.OK, "application/json",
              "{\"reloaded\":true,\"generation\":" + backend.generation() + "}\n");
        } else {
          send(ctx, request, HttpResponseStatus.UNPROCESSABLE_ENTITY, "text/plain", problems + "\n");
        }
      } else {
        send(ctx, request, HttpResponseStatus.NOT_FOUND, "text/plain", "not found: " + path + "\n");
      }
    }

    private static void send(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
        String type, String body) {
      FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
          Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, type)
          .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
      boolean keepAlive = HttpUtil.isKeepAlive(request);
      HttpUtil.setKeepAlive(response, keepAlive);
      if (keepAlive) {
        ctx.writeAndFlush(response);
      } else {
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
      }
    }
  }
}
