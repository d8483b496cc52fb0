package io.gatehouse.listener;

import io.gatehouse.http.ClientAddress;
import io.gatehouse.http.PipelineNames;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolException;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The whole pipeline of a connection from a trusted balancer, until its PROXY header is read:
 * {@code proxy-protocol (Netty's HAProxyMessageDecoder, v1 text or v2 binary as the first bytes
 * say) -> proxy-protocol-stage (this)}. The header precedes everything else the connection
 * carries, a TLS ClientHello or the HTTP/2 preface included, so the rest of the pipeline
 * ({@link ClientPipeline#addProtocols}) is built only once it is read; the decoder then leaves and
 * hands the bytes behind the header on to it.
 *
 * <p>A {@code PROXY} command over TCP4/TCP6 names the client: its source becomes the connection's
 * {@link ClientAddress}, and the per-client connection limit is applied to it. {@code LOCAL} (the
 * balancer's own health check) and {@code UNKNOWN}, UDP or Unix families keep the socket's
 * addresses (HAProxy's spec, section 2.1 and 2.2). A connection that does not open with a valid
 * header is closed, counted and logged (rate limited) as a {@code proxy-protocol} protocol error:
 * a trusted source that omits it is misconfigured, and must not be served as if it were the client.
 * Silence is bounded by {@code idleTimeout}, a header once begun by {@code headerTimeout}.
 *
 * <p>Event-loop confined: plain fields.
 */
final class ProxyProtocolStage extends ChannelInboundHandlerAdapter {
  private final ClientPipeline pipeline;
  private final ListenerSettings settings;
  private final ConnectionLimiter limiter;
  private final ConnectionErrors errors;
  private ScheduledFuture<?> timeout;
  private boolean started;
  private boolean bytesSeen;
  /** Counted already: the decoder reports a bad header more than once as it fails and closes. */
  private boolean failed;

  private ProxyProtocolStage(
      ClientPipeline pipeline, ListenerSettings settings, ConnectionLimiter limiter, ConnectionErrors errors) {
    this.pipeline = pipeline;
    this.settings = settings;
    this.limiter = limiter;
    this.errors = errors;
  }

  /** Installs {@code proxy-protocol -> proxy-protocol-stage} as the whole pipeline of a new connection. */
  static void install(ChannelPipeline p, ClientPipeline pipeline, ListenerSettings settings,
      ConnectionLimiter limiter, ConnectionErrors errors) {
    p.addLast(PipelineNames.PROXY_PROTOCOL, new HAProxyMessageDecoder());
    p.addLast(PipelineNames.PROXY_PROTOCOL_STAGE, new ProxyProtocolStage(pipeline, settings, limiter, errors));
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (ctx.channel().isActive()) {
      start(ctx);
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    start(ctx);
    super.channelActive(ctx);
  }

  /** The channel runs with autoRead off: the first read is asked for here (the decoder asks for more). */
  private void start(ChannelHandlerContext ctx) {
    if (started) {
      return;
    }
    started = true;
    closeAfter(ctx, settings.limits().idleTimeout().toNanos(), "no PROXY header within idleTimeout");
    ctx.read();
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    // The decoder passes every read's end on; the first one means a header has begun.
    if (!bytesSeen) {
      bytesSeen = true;
      closeAfter(ctx, settings.limits().headerTimeout().toNanos(), "PROXY header not complete within headerTimeout");
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof HAProxyMessage header)) {
      ReferenceCountUtil.release(msg); // nothing else comes before the header is decoded
      return;
    }
    InetSocketAddress source;
    InetSocketAddress destination;
    try {
      source = stated(header, header.sourceAddress(), header.sourcePort());
      destination = stated(header, header.destinationAddress(), header.destinationPort());
    } finally {
      header.release();
    }
    cancelTimeout();
    if (source != null) {
      ClientAddress.fromProxyHeader(ctx.channel(), source, destination);
    }
    InetAddress client = source != null ? source.getAddress() : null;
    if (client != null && !limiter.tryAdmitClient(ctx.channel(), client)) {
      ctx.close(); // limits.perClient.connections, for the client the header named
      return;
    }
    pipeline.addProtocols(ctx.pipeline(), settings);
    ctx.pipeline().remove(this); // the decoder leaves after this and hands on what followed the header
  }

  /** The address a PROXY command states for TCP over IPv4/IPv6; null when the socket's stands. */
  private static InetSocketAddress stated(HAProxyMessage header, String address, int port) {
    if (header.command() != HAProxyCommand.PROXY || address == null) {
      return null;
    }
    switch (header.proxiedProtocol()) {
      case TCP4, TCP6 -> {
        // A literal validated by the decoder: converted, never resolved.
        InetAddress inet = NetUtil.createInetAddressFromIpAddressString(address);
        return inet == null ? null : new InetSocketAddress(inet, port);
      }
      default -> {
        return null;
      }
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!failed && (cause instanceof HAProxyProtocolException || cause.getCause() instanceof HAProxyProtocolException)) {
      failed = true;
      errors.protocolError(ctx.channel(), ConnectionErrors.PROXY_PROTOCOL, cause); // a bad header, not a reset
    }
    ctx.close();
  }

  private void closeAfter(ChannelHandlerContext ctx, long nanos, String why) {
    cancelTimeout();
    timeout = ctx.executor().schedule(() -> {
      failed = true;
      errors.protocolError(ctx.channel(), ConnectionErrors.PROXY_PROTOCOL, new HAProxyProtocolException(why));
      ctx.close();
    }, nanos, TimeUnit.NANOSECONDS);
  }

  private void cancelTimeout() {
    if (timeout != null) {
      timeout.cancel(false);
      timeout = null;
    }
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancelTimeout();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancelTimeout();
    super.channelInactive(ctx);
  }
}
