package io.gatehouse.forward;

import io.gatehouse.config.HostPort;
import io.gatehouse.http.HttpDate;
import io.gatehouse.http.PipelineNames;
import io.gatehouse.pool.ConnectFailures;
import io.gatehouse.pool.PeerSpec;
import io.gatehouse.pool.UpstreamPools;
import io.gatehouse.relay.ConnectionContext;
import io.gatehouse.relay.Downstream;
import io.gatehouse.relay.ExchangeRecord;
import io.gatehouse.relay.Http2StreamSide;
import io.gatehouse.relay.Http2StreamTunnel;
import io.gatehouse.relay.RequestInfo;
import io.gatehouse.relay.Tunnel;
import io.gatehouse.relay.TunnelRelay;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns a client connection that sent an accepted CONNECT into a tunnel (RFC 9110 §9.3.6): connect
 * upstream, answer {@code 200 Connection established}, then swap the HTTP handlers for a {@link
 * TunnelRelay}. Bytes the client sent right behind the CONNECT head are held by the codec (it stops
 * decoding after a CONNECT) and flow into the tunnel when the codec is removed. On an HTTP/2 stream
 * (RFC 9113 §8.5) the stream is the client side: the 2xx is a HEADERS frame without END_STREAM, and
 * an {@link Http2StreamTunnel} reads the stream's DATA (those sent ahead of the 2xx first) in the
 * proxy handler's place. One access-log line is written when the tunnel closes.
 *
 * <p>The upstream connection is an exclusive one of the one upstream connector ({@link
 * UpstreamPools#connectExclusive}): the resolved addresses are tried in turn, each with the
 * listener's connect timeout, and a failure is classified as for pooled connections. Runs on the
 * client's event loop.
 */
final class ConnectTunnel implements UpstreamPools.ExclusiveCallback {
  private static final HttpResponseStatus ESTABLISHED = new HttpResponseStatus(200, "Connection established");

  private final Downstream client;
  private final ForwardProxyHandler handler;
  private final ConnectionContext context;
  private final ForwardSettings settings;
  private final HttpRequest request;
  private final String user;
  private final String rule;
  private final ForwardTarget target;
  private final long startNanos;

  private ConnectTunnel(Downstream client, ForwardProxyHandler handler, ConnectionContext context,
      ForwardSettings settings, HttpRequest request, String user, String rule, ForwardTarget target,
      long startNanos) {
    this.client = client;
    this.handler = handler;
    this.context = context;
    this.settings = settings;
    this.request = request;
    this.user = user;
    this.rule = rule;
    this.target = target;
    this.startNanos = startNanos;
  }

  static void open(Downstream client, ForwardProxyHandler handler, ConnectionContext context, ForwardSettings settings,
      UpstreamPools pools, HttpRequest request, String user, String rule, ForwardTarget target,
      List<InetSocketAddress> addresses, long startNanos) {
    List<PeerSpec> peers = new ArrayList<>(addresses.size());
    for (InetSocketAddress address : addresses) {
      peers.add(settings.tunnelPeer(new HostPort(address.getAddress().getHostAddress(), address.getPort())));
    }
    if (client.channel() != null) {
      // One socket read stays asked for while the upstream connects, below the flow-control handler
      // (which would hand the CONNECT's empty end to the proxy handler): the read interest is not
      // dropped now and added again when the tunnel starts, two epoll_ctl calls of the ~40 a
      // tunnel costs. The codec holds what that read brings (it stops decoding after a CONNECT),
      // one read's worth at most, as it holds bytes that came with the CONNECT head.
      ChannelHandlerContext codec = client.channel().pipeline().context(PipelineNames.HTTP_CODEC);
      if (codec != null) {
        codec.read();
      }
    }
    pools.connectExclusive(client.eventLoop(), peers,
        new ConnectTunnel(client, handler, context, settings, request, user, rule, target, startNanos));
  }

  @Override
  public void connected(Channel upstream, PeerSpec peer) {
    if (!client.isActive()) {
      upstream.close();
      return;
    }
    String label = peer.address().toString();
    TunnelRelay.Listener ends = TunnelRelay.Listener.recording(context.observer(), tunnel -> record(label, tunnel));
    if (client instanceof Http2StreamSide stream) {
      // RFC 9113 §8.5: on an HTTP/2 stream the 2xx is a HEADERS frame that leaves the stream open (a
      // head without content, not a full message, which would end it).
      client.writeAndFlush(established(new DefaultHttpResponse(HttpVersion.HTTP_1_1, ESTABLISHED)));
      Http2StreamTunnel.start(stream, upstream, settings.tunnelIdleNanos(), context.clock(), ends);
      return;
    }
    Channel channel = client.channel();
    channel.writeAndFlush(established(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, ESTABLISHED)));
    ChannelPipeline p = channel.pipeline();
    p.remove(handler);
    TunnelRelay.start(channel, upstream, settings.tunnelIdleNanos(), context.clock(), ends);
    // Order matters: the flow-control queue (the CONNECT's empty last content) drains first,
    // then the codec hands over the bytes it holds, all into the tunnel installed above.
    p.remove(PipelineNames.FLOW_CONTROL);
    p.remove(PipelineNames.HTTP_CODEC);
    p.remove(PipelineNames.CLIENT_TIMEOUTS);
  }

  /**
   * The proxy is the server answering a CONNECT: a 2xx from a server with a clock carries Date
   * (RFC 9110 §6.6.1), as every other reply of the proxy does.
   */
  private static HttpResponse established(HttpResponse response) {
    response.headers().set(HttpHeaderNames.DATE, HttpDate.now().value());
    return response;
  }

  /** Every resolved address failed (each was tried in turn); the last one's failure is the answer. */
  @Override
  public void failed(Throwable cause) {
    if (client.isActive()) {
      handler.tunnelFailed(ConnectFailures.reason(cause), "cannot connect to " + target.authority());
    } // else the client left: its access-log line is written as it closes
  }

  @Override
  public boolean abandoned() {
    return !client.isActive();
  }

  private ExchangeRecord record(String upstream, Tunnel tunnel) {
    return new ExchangeRecord(
        context.listenerName(),
        client.clientAddress().ip(),
        user,
        "CONNECT",
        target.authority(),
        request.uri(),
        client.http2() ? RequestInfo.HTTP_2 : request.protocolVersion().text(),
        io.gatehouse.http.MessageFields.of(request).get(HttpHeaderNames.REFERER),
        io.gatehouse.http.MessageFields.of(request).get(HttpHeaderNames.USER_AGENT),
        200,
        tunnel.bytesUp(),
        tunnel.bytesDown(),
        null,
        null,
        upstream,
        rule,
        tunnel.durationNanos(),
        context.clock().getAsLong() - startNanos,
        tunnel.outcome());
  }
}
