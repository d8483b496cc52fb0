package io.gatehouse.admin;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;

/**
 * Serves the dashboard's shell ({@code GET /} and the fixed {@code /ui/...} files) and passes every
 * other request on to {@link AdminHandler}. Sits at {@code http-codec -> aggregator -> dashboard ->
 * admin}. The shell holds no data, so it needs no token: the page asks for the token and every data
 * call it makes goes through {@code AdminHandler}'s check as before. Answered on the event loop: a
 * lookup in an in-memory table, nothing that blocks.
 */
final class DashboardHandler extends ChannelInboundHandlerAdapter {
  private static final String X_CONTENT_TYPE_OPTIONS = "X-Content-Type-Options";
  private static final String REFERRER_POLICY = "Referrer-Policy";
  private final DashboardAssets assets;

  DashboardHandler(DashboardAssets assets) {
    this.assets = assets;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof FullHttpRequest request)) {
      ctx.fireChannelRead(msg);
      return;
    }
    // The raw path, never decoded: only the table's exact names match.
    String path = new QueryStringDecoder(request.uri()).rawPath();
    if (!path.equals("/") && !path.startsWith("/ui/")) {
      ctx.fireChannelRead(msg);
      return;
    }
    try {
      serve(ctx, request, path);
    } finally {
      request.release();
    }
  }

  private void serve(ChannelHandlerContext ctx, FullHttpRequest request, String path) {
    DashboardAssets.Asset asset = assets.get(path);
    FullHttpResponse response;
    if (asset == null) {
      response = text(HttpResponseStatus.NOT_FOUND, "not found: " + path + "\n");
    } else if (!request.method().equals(HttpMethod.GET) && !request.method().equals(HttpMethod.HEAD)) {
      response = text(HttpResponseStatus.METHOD_NOT_ALLOWED, request.method() + " not allowed on " + path
          + " (allowed: GET, HEAD)\n");
      response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
    } else if (asset.etag().equals(request.headers().get(HttpHeaderNames.IF_NONE_MATCH))) {
      // RFC 9110 §15.4.5: a 304 carries the ETag and Cache-Control a 200 would have.
      response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NOT_MODIFIED);
      response.headers().set(HttpHeaderNames.ETAG, asset.etag());
    } else {
      boolean head = request.method().equals(HttpMethod.HEAD);
      response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
          head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(asset.bytes()));
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, asset.type())
          .set(HttpHeaderNames.ETAG, asset.etag())
          .setInt(HttpHeaderNames.CONTENT_LENGTH, asset.bytes().length);
    }
    response.headers()
        .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE)
        .set(HttpHeaderNames.CONTENT_SECURITY_POLICY, DashboardAssets.CONTENT_SECURITY_POLICY)
        .set(X_CONTENT_TYPE_OPTIONS, "nosniff")
        .set(HttpHeaderNames.X_FRAME_OPTIONS, "DENY")
        .set(REFERRER_POLICY, "no-referrer")
        .set(HttpHeaderNames.DATE, DateFormatter.format(new java.util.Date()));
    if (!response.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
      response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
    }
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    HttpUtil.setKeepAlive(response, keepAlive);
    if (keepAlive) {
      ctx.writeAndFlush(response);
    } else {
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }

  private static FullHttpResponse text(HttpResponseStatus status, String body) {
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
        Unpooled.wrappedBuffer(body.getBytes(StandardCharsets.UTF_8)));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
    return response;
  }
}
