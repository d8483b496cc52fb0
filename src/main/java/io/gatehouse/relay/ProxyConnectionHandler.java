package io.gatehouse.relay;

import io.gatehouse.http.ClientTimeoutHandler;
import io.gatehouse.http.LocalReply;
import io.gatehouse.http.Reason;
import io.gatehouse.http.RequestChecks;
import io.gatehouse.ratelimit.RateLimiter;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.gatehouse.http.PipelineNames;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelHandler;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http2.Http2StreamChannel;
import java.util.concurrent.TimeUnit;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.function.LongSupplier;

/**
 * The terminal handler of a client connection, shared by the forward and reverse proxies: reads
 * one request at a time (pipelined requests wait in the flow-control handler, so responses go out
 * in order), refuses malformed ones, hands good ones to the subclass, and after each exchange
 * either reads the next request or closes.
 *
 * <p>The channel runs with autoRead off: this handler asks for every message it wants. Fields are
 * confined to the channel's event loop, so none is volatile.
 */
public abstract class ProxyConnectionHandler extends ChannelInboundHandlerAdapter
    implements ExchangeListener {
  /** How long a closing connection keeps draining client input after the reply (lingering close). */
  static final long LINGER_MILLIS = 2000;
  protected final ConnectionContext context;
  private final ClientTimeoutHandler timeouts;
  protected Channel channel;
  private HttpExchange exchange;
  /** Request being answered locally whose body is still arriving (discarded). */
  private boolean discardingBody;
  private boolean closeAfterReply;
  private RequestInfo current;
  private boolean draining;
  /** The stop's drain deadline passed: what is cut now was cut by the proxy, not the client. */
  private boolean drainDeadline;
  /** A closing local reply was sent: input is read and dropped until the client closes (lingering close). */
  private boolean lingering;
  /** The client half-closed: the requests it sent before are answered, then the connection closes. */
  private boolean inputEnded;
  private LazyTimer responseTimer;
  private ChannelHandlerContext flowControl;
  /** The client's address as text, computed once per connection. */
  protected String clientIp = "-";

  protected ProxyConnectionHandler(ConnectionContext context, ClientTimeoutHandler timeouts) {
    this.context = context;
    this.timeouts = timeouts;
  }

  /** Facts about the request in progress, filled by the subclass for the access log. */
  protected static final class RequestInfo {
    String method;
    /** The Host header by default; the forward proxy puts the target's host:port here. */
    public String authority;
    String target;
    String protocol;
    String referer;
    String userAgent;
    long startNanos;
    public String route;
    public String cluster;
    public String user;
    public String rule;
    public String upstream;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    start(ctx);
    super.channelActive(ctx);
  }

  /** Added to an already active channel: after ALPN chose HTTP/1.1, or on an HTTP/2 stream. */
  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (ctx.channel().isActive()) {
      start(ctx);
    }
  }

  private void start(ChannelHandlerContext ctx) {
    if (channel != null) {
      return;
    }
    channel = ctx.channel();
    responseTimer = new LazyTimer(channel.eventLoop(), clock());
    flowControl = ctx.pipeline().context(PipelineNames.FLOW_CONTROL);
    java.net.SocketAddress remote = channel instanceof Http2StreamChannel
        ? channel.parent().remoteAddress() : channel.remoteAddress();
    if (remote instanceof InetSocketAddress) {
      clientIp = ((InetSocketAddress) remote).getAddress().getHostAddress();
    }
    channel.read();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (lingering) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpRequest) {
      onRequest((HttpRequest) msg);
      if (msg instanceof HttpContent) { // a decoder failure comes as a full request
        ReferenceCountUtil.release(msg);
      }
      return;
    }
    if (msg instanceof HttpContent) {
      onContent((HttpContent) msg);
      return;
    }
    ReferenceCountUtil.release(msg);
    channel.read();
  }

  private void onRequest(HttpRequest request) {
    if (request.decoderResult().cause() instanceof PrematureChannelClosureException) {
      // The client half-closed in the middle of a request head: an abort, nothing to answer.
      current = new RequestInfo();
      current.startNanos = clock().getAsLong();
      current.method = "-";
      finishRequest(Reason.CLIENT_ABORTED, 0, 0, 0, 0);
      channel.close();
      return;
    }
    timeouts.exchangeStarted(request.decoderResult().isSuccess() && announcesBody(request));
    current = new RequestInfo();
    current.startNanos = clock().getAsLong();
    current.method = request.method().name();
    current.target = request.uri();
    current.authority = request.headers().get(HttpHeaderNames.HOST);
    current.protocol = request.protocolVersion().text();
    current.referer = request.headers().get(HttpHeaderNames.REFERER);
    current.userAgent = request.headers().get(HttpHeaderNames.USER_AGENT);
    RequestChecks.Refusal refusal = RequestChecks.check(request, context.maxBodyBytes());
    if (refusal != null) {
      if (refusal.reason() == Reason.BODY_TOO_LARGE || refusal.reason() == Reason.HEADERS_TOO_LARGE) {
        identify(request, current); // the head (or its start) was read: the log and metrics get the route
      }
      reply(refusal.reason(), refusal.detail(), refusal.reason().closesConnection() || expectsContinue(request));
      return;
    }
    if (context.perClient() != null && rateLimited(context.perClient(), clientIp, request)) {
      return;
    }
    handleRequest(request, current);
  }

  /**
   * Applies {@code limiter} to {@code key}; when over the limit, answers 429 with
   * {@code Retry-After} (RFC 6585 §4) and returns true.
   */
  protected final boolean rateLimited(RateLimiter limiter, String key, HttpRequest request) {
    long waitNanos = limiter.acquire(key == null ? "" : key, clock().getAsLong());
    if (waitNanos == 0) {
      return false;
    }
    long seconds = Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L);
    identify(request, current);
    reply(Reason.RATE_LIMITED, "rate limit exceeded, retry in " + seconds + " s", expectsContinue(request),
        r -> r.headers().set(HttpHeaderNames.RETRY_AFTER, seconds));
    return true;
  }

  /**
   * Runs a request phase's {@link Decision}: {@code proceed} goes on with the request, a reply
   * answers it locally (named by {@link #identify}), and a wait parks it ({@link RequestPause})
   * and does one of those later, on this event loop. A client that leaves while its request waits
   * gets its access-log line at the close ({@link #channelInactive}) and nothing else.
   */
  protected final void decide(Decision decision, HttpRequest request, Runnable proceed) {
    RequestInfo waiting = current;
    RequestPause.run(channel, clock(), decision, d -> {
      if (current != waiting || !channel.isActive()) {
        return; // the client closed while the request waited: already recorded as client_aborted
      }
      if (d instanceof Decision.Reply r) {
        identify(request, current);
        reply(r.reason(), r.detail(), expectsContinue(request), r.decorate());
      } else {
        proceed.run();
      }
    });
  }

  /**
   * Fills what the access log and metrics can know about a request refused before
   * {@link #handleRequest} (body or head too large, per-client rate limit), such as its route.
   * Must not change the request or any state. For a head too large, only the fields read before
   * the limit are there (Host may be missing). Default: nothing.
   */
  protected void identify(HttpRequest request, RequestInfo info) {}

  /**
   * Decides what to do with a valid request head: call {@link #startExchange} or {@link #reply}.
   */
  protected abstract void handleRequest(HttpRequest request, RequestInfo info);

  /** Starts relaying {@code request} to an upstream from {@code connector}. */
  protected final void startExchange(HttpRequest request, UpstreamConnector connector, ExchangeSettings settings) {
    exchange = new HttpExchange(channel, request, connector, this, settings, responseTimer, context.requestBufferBytes());
    exchange.start();
  }

  /** Answers the current request locally; {@code close} when the connection cannot be reused. */
  protected final void reply(Reason reason, String detail, boolean close) {
    reply(reason, detail, close, null);
  }

  /** As {@link #reply(Reason, String, boolean)}, letting the caller add headers to the response. */
  protected final void reply(Reason reason, String detail, boolean close, java.util.function.Consumer<FullHttpResponse> decorate) {
    closeAfterReply = close || draining;
    FullHttpResponse response = LocalReply.build(channel.alloc(), reason.status(), detail, closeAfterReply);
    if (decorate != null) {
      decorate.accept(response);
    }
    context.observer().localReply(reason);
    channel.writeAndFlush(response);
    finishRequest(reason, reason.status().code(), 0, 0, 0);
    if (closeAfterReply) {
      lingeringClose();
    } else {
      discardingBody = true; // skip this request's body, if any, then read on
      channel.read();
    }
  }

  private void onContent(HttpContent content) {
    if (content instanceof LastHttpContent) {
      timeouts.bodyComplete();
    }
    if (exchange != null && !exchange.isDone()) {
      boolean last = content instanceof LastHttpContent;
      exchange.onClientContent(content);
      if (last && exchange != null && !exchange.isDone()) {
        prefetch();
      }
      return;
    }
    boolean last = content instanceof LastHttpContent;
    content.release();
    if (discardingBody && last) {
      discardingBody = false;
      timeouts.exchangeEnded();
    }
    channel.read();
  }

  /**
   * Keeps a socket read pending while the response is relayed, so the read interest is never
   * switched off and on again for each request (two epoll_ctl calls saved per request). What it
   * reads waits in the flow-control handler, which passes nothing on until asked: at most one
   * read's worth of a pipelining client's next requests.
   */
  private void prefetch() {
    if (flowControl != null) {
      flowControl.read();
    }
  }

  @Override
  public void replyLocally(HttpExchange ex, Reason reason, String detail) {
    exchange = null;
    // A bodiless request whose (empty) end was not read yet, because the upstream failed before
    // the exchange asked for it, leaves the connection in sync: that end is skipped below.
    boolean unreadBody = !ex.requestComplete() && ex.requestHasBody();
    boolean close = unreadBody || reason.closesConnection() || draining;
    discardingBody = !close && !ex.requestComplete();
    current.upstream = ex.upstreamLabel();
    closeAfterReply = close;
    FullHttpResponse response = LocalReply.build(channel.alloc(), reason.status(), detail, close);
    context.observer().localReply(reason);
    channel.writeAndFlush(response);
    finishRequest(reason, reason.status().code(), ex.requestBodyBytes(), 0, ex.upstreamNanos());
    if (close) {
      lingeringClose();
    } else {
      afterExchange(true);
    }
  }

  @Override
  public void exchangeUpgraded(HttpExchange ex, Channel upstream) {
    exchange = null;
    RequestInfo info = current;
    info.upstream = ex.upstreamLabel();
    ChannelPipeline p = channel.pipeline();
    p.remove(this);
    // The tunnel goes in first so bytes the HTTP handlers still hold flow into it as they leave.
    TunnelRelay.start(channel, upstream, context.tunnelIdleNanos(), clock(), tunnel -> {
      current = info;
      finishRequest(tunnel.cutAtDrainDeadline() ? Reason.DRAIN_DEADLINE : Reason.OK, 101, tunnel.bytesUp(),
          tunnel.bytesDown(), ex.upstreamNanos());
    });
    // The HTTP encoders leave before any decoder: removing a decoder hands the bytes it still
    // holds (a frame sent right behind the 101, or right behind the upgrade request) to the tunnel,
    // which writes them to the other side, where an HTTP encoder would refuse a raw buffer.
    removeEncoder(upstream.pipeline().get(PipelineNames.UPSTREAM_CODEC));
    removeEncoder(p.get(PipelineNames.HTTP_CODEC));
    upstream.pipeline().remove(PipelineNames.UPSTREAM);
    upstream.pipeline().remove(PipelineNames.UPSTREAM_CODEC);
    for (String name : new String[] {PipelineNames.FLOW_CONTROL,
        PipelineNames.HTTP_CODEC, PipelineNames.CLIENT_TIMEOUTS}) {
      if (p.get(name) != null) {
        p.remove(name);
      }
    }
  }

  private static void removeEncoder(ChannelHandler codec) {
    if (codec instanceof CombinedChannelDuplexHandler<?, ?> combined) {
      combined.removeOutboundHandler();
    }
  }

  @Override
  public boolean draining() {
    return draining;
  }

  @Override
  public void exchangeDone(HttpExchange ex, boolean keepClientOpen) {
    exchange = null;
    current.upstream = ex.upstreamLabel();
    finishRequest(ex.outcome(), ex.status(), ex.requestBodyBytes(), ex.responseBodyBytes(), ex.upstreamNanos());
    if (!keepClientOpen && !ex.requestComplete() && channel.isActive()) {
      lingeringClose(); // the upstream answered before the upload ended: the client is still sending
    } else {
      afterExchange(keepClientOpen && !draining);
    }
  }

  private void afterExchange(boolean keepOpen) {
    if (!keepOpen || inputEnded) {
      closeAfterFlush();
      return;
    }
    timeouts.exchangeEnded();
    channel.read();
  }

  /** Closes once everything written so far has left (an HTTP/2 stream ends with its response). */
  private void closeAfterFlush() {
    if (channel instanceof Http2StreamChannel) {
      channel.flush();
      return;
    }
    channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
  }

  /**
   * Closes after a local reply without losing it. A plain close while request bytes are still
   * unread makes the kernel send RST, and a client that receives RST before it read the reply
   * loses the reply (RFC 9112 §9.6). So: flush, half-close (FIN after the reply), drop whatever
   * the client still sends, and close when it closes or after {@link #LINGER_MILLIS}.
   */
  private void lingeringClose() {
    lingering = true;
    if (!(channel instanceof DuplexChannel) || channel.pipeline().get(PipelineNames.TLS) != null
        || inputEnded || ((DuplexChannel) channel).isInputShutdown()) {
      // TLS: a half-close under the TLS layer would skip close_notify. Input ended: nothing to drain.
      closeAfterFlush();
      return;
    }
    // From here the client's EOF closes the connection, as it did before the half-close support.
    channel.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
    channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(written -> {
      if (!written.isSuccess() || !channel.isActive()) {
        channel.close();
        return;
      }
      ((DuplexChannel) channel).shutdownOutput().addListener(shut -> {
        if (!shut.isSuccess()) {
          channel.close();
          return;
        }
        channel.eventLoop().schedule(() -> channel.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
        channel.config().setAutoRead(true); // input is dropped in channelRead; EOF closes the channel
      });
    });
  }

  private void finishRequest(Reason outcome, int status, long in, long out, long upstreamNanos) {
    RequestInfo info = current;
    if (info == null) {
      return;
    }
    if (drainDeadline && outcome == Reason.CLIENT_ABORTED) {
      outcome = Reason.DRAIN_DEADLINE;
    }
    current = null;
    context.observer().exchangeFinished(new ExchangeRecord(
        context.listenerName(),
        clientIp,
        info.user,
        info.method,
        info.authority,
        info.target,
        info.protocol,
        info.referer,
        info.userAgent,
        status,
        in,
        out,
        info.route,
        info.cluster,
        info.upstream == null ? "-" : info.upstream,
        info.rule,
        upstreamNanos,
        clock().getAsLong() - info.startNanos,
        outcome));
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt == ClientTimeoutHandler.BODY_TIMEOUT) {
      if (exchange != null && !exchange.isDone()) {
        exchange.abort(Reason.BODY_TIMEOUT, "request body not received in time"); // 408 unless the response started
      } else if (!lingering) {
        channel.close(); // a body being discarded after a local reply stopped coming
      }
      return;
    }
    if (evt == ClientTimeoutHandler.CLIENT_TOO_SLOW) {
      onClientTooSlow();
      return;
    }
    if (evt == ClientTimeoutHandler.HEADER_TIMEOUT && exchange == null) {
      current = new RequestInfo();
      current.startNanos = clock().getAsLong();
      current.method = "-";
      reply(Reason.HEADER_TIMEOUT, "request head not received in time", true);
      return;
    }
    if (evt == DrainSignal.DEADLINE) {
      draining = true;
      drainDeadline = true; // the server closes the channel right after this event
      return;
    }
    if (evt instanceof ChannelInputShutdownEvent && !(channel instanceof Http2StreamChannel)) {
      clientInputEnded();
      return;
    }
    if (evt instanceof ChannelInputShutdownReadComplete) {
      return; // a read after the half-close: nothing more will come
    }
    if (evt instanceof DrainSignal drain) {
      draining = true;
      long delay = drain.idleCloseDelayNanos();
      if (delay == 0) {
        closeIfIdle();
      } else {
        // A request that arrives before then is answered with Connection: close (draining).
        channel.eventLoop().schedule(this::closeIfIdle, delay, TimeUnit.NANOSECONDS);
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  private void closeIfIdle() {
    if (exchange == null && current == null) {
      channel.close(); // idle keep-alive connection: nothing in flight
    }
  }

  /**
   * The client sends its body or takes its response slower than the minimum rate: 408 while no
   * response has started, otherwise the connection is cut (and counted, as no reply counts it).
   */
  private void onClientTooSlow() {
    if (exchange != null && !exchange.isDone()) {
      if (exchange.responseStarted()) {
        context.observer().localReply(Reason.CLIENT_TOO_SLOW);
      }
      exchange.abort(Reason.CLIENT_TOO_SLOW, "request body or response read slower than the minimum rate");
    } else if (!lingering) {
      context.observer().localReply(Reason.CLIENT_TOO_SLOW);
      channel.close();
    }
  }

  /**
   * The client half-closed (RFC 9112 §9.6). The flow-control handler delivers this after every
   * request sent before the FIN, so: between requests, close once the responses are out; in the
   * middle of a request body, the client aborted.
   */
  private void clientInputEnded() {
    inputEnded = true;
    if (lingering) {
      closeAfterFlush();
    } else if (exchange != null && !exchange.isDone()) {
      if (!exchange.requestComplete()) {
        channel.close(); // body cut short: the exchange ends as client_aborted
      }
      // else: the response is still coming; afterExchange closes after it
    } else if (discardingBody) {
      closeAfterFlush(); // the body of a request answered locally was cut short
    } else if (current == null) {
      closeAfterFlush(); // between requests: everything sent was answered
    }
    // else: a request waits on something asynchronous; it is answered, then afterExchange closes
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (exchange != null) {
      exchange.onClientWritabilityChanged();
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (responseTimer != null) {
      responseTimer.cancel();
    }
    if (exchange != null) {
      exchange.onClientClosed();
    } else if (current != null) {
      // The client left while its request waited on something asynchronous (a login check, DNS,
      // a tunnel's connect): it still gets its access-log line.
      finishRequest(Reason.CLIENT_ABORTED, 0, 0, 0, 0);
    }
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close(); // client I/O errors (resets) are routine; the close path records the outcome
  }

  protected final LongSupplier clock() {
    return context.clock();
  }

  /** True while a request is in progress on this connection. */
  protected final boolean busy() {
    return current != null;
  }

  /** Whether a successfully decoded request says a body follows (chunked, or a length above 0). */
  private static boolean announcesBody(HttpRequest request) {
    if (HttpUtil.isTransferEncodingChunked(request)) {
      return true;
    }
    String length = request.headers().get(io.netty.handler.codec.http.HttpHeaderNames.CONTENT_LENGTH);
    return length != null && !"0".equals(length.trim());
  }

  /**
   * A client that asked for 100-continue and got a final answer may or may not send its body
   * (RFC 9110 §10.1.1); the connection cannot be reused safely after a local reply.
   */
  protected static boolean expectsContinue(HttpRequest request) {
    return HttpUtil.is100ContinueExpected(request);
  }
}
