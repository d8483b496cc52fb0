package io.gatehouse.forward;

import io.gatehouse.http.PipelineNames;
import io.gatehouse.http.Reason;
import io.gatehouse.relay.ConnectionContext;
import io.gatehouse.relay.ExchangeRecord;
import io.gatehouse.relay.TunnelRelay;
import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ConnectTimeoutException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * Turns a client connection that sent an accepted CONNECT into a tunnel (RFC 9110 §9.3.6): connect
 * upstream, answer {@code 200 Connection established}, then swap the HTTP handlers for a {@link
 * TunnelRelay}. Bytes the client sent right behind the CONNECT head are held by the codec (it stops
 * decoding after a CONNECT) and flow into the tunnel when the codec is removed. One access-log line
 * is written when the tunnel closes.
 */
final class ConnectTunnel {
  private static final HttpResponseStatus ESTABLISHED = new HttpResponseStatus(200, "Connection established");

  private ConnectTunnel() {}

  static void open(Channel client, ForwardProxyHandler handler, ConnectionContext context, ForwardSettings settings,
      HttpRequest request, String user, String rule, ForwardTarget target, List<InetSocketAddress> addresses,
      long startNanos) {
    TunnelConnector.open(client.eventLoop(), settings, addresses, new TunnelConnector.Callback() {
      @Override
      public void connected(Channel upstream, InetSocketAddress address) {
        if (!client.isActive()) {
          upstream.close();
          return;
        }
        String label = address.getAddress().getHostAddress() + ":" + address.getPort();
        client.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, ESTABLISHED));
        ChannelPipeline p = client.pipeline();
        p.remove(handler);
        TunnelRelay.start(client, upstream, settings.tunnelIdleNanos(), context.clock(),
            tunnel -> log(client, context, user, rule, target, request, label, tunnel, startNanos));
        // Order matters: the flow-control queue (the CONNECT's empty last content) drains first,
        // then the codec hands over the bytes it holds, all into the tunnel installed above.
        p.remove(PipelineNames.FLOW_CONTROL);
        p.remove(PipelineNames.HTTP_CODEC);
        p.remove(PipelineNames.CLIENT_TIMEOUTS);
      }

      @Override
      public void failed(Throwable cause, InetSocketAddress lastTried) {
        if (!client.isActive()) {
          return;
        }
        Reason reason = cause instanceof ConnectTimeoutException ? Reason.UPSTREAM_TIMEOUT : Reason.UPSTREAM_CONNECT_FAILED;
        handler.tunnelFailed(reason, "cannot connect to " + target.authority());
      }
    });
  }

  private static void log(Channel client, ConnectionContext context, String user, String rule, ForwardTarget target,
      HttpRequest request, String upstream, TunnelRelay tunnel, long startNanos) {
    context.observer().exchangeFinished(new ExchangeRecord(
        context.listenerName(),
        io.gatehouse.http.ClientAddress.of(client).ip(),
        user,
        "CONNECT",
        target.authority(),
        request.uri(),
        request.protocolVersion().text(),
        request.headers().get(HttpHeaderNames.REFERER),
        request.headers().get(HttpHeaderNames.USER_AGENT),
        200,
        tunnel.bytesUp(),
        tunnel.bytesDown(),
        null,
        null,
        upstream,
        rule,
        tunnel.durationNanos(),
        context.clock().getAsLong() - startNanos,
        tunnel.outcome()));
  }
}
