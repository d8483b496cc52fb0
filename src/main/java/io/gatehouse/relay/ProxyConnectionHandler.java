package io.gatehouse.relay;

import io.gatehouse.http.ClientAddress;
import io.gatehouse.http.ClientTimeouts;
import io.gatehouse.http.LocalReply;
import io.gatehouse.http.MaxForwards;
import io.gatehouse.http.Reason;
import io.gatehouse.http.RequestChecks;
import io.gatehouse.ratelimit.RateLimiter;
import io.gatehouse.http.PipelineNames;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.ChannelInputShutdownReadComplete;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The terminal handler of a client connection, shared by the forward and reverse proxies: reads
 * one request at a time (pipelined requests wait in the flow-control handler, so responses go out
 * in order), refuses malformed ones, hands good ones to the subclass, and after each exchange
 * either reads the next request or closes. It admits requests (checks, per-client rate, local
 * replies, the access-log record); the client side's I/O, drain, half-close and closing are
 * its {@link Downstream}'s, each exchange's relay is {@link HttpExchange}'s, and an upgrade's
 * switch to a tunnel is {@link ProtocolUpgrade}'s.
 *
 * <p>The channel runs with autoRead off: this handler asks for every message it wants. Fields are
 * confined to the channel's event loop, so none is volatile.
 */
public abstract class ProxyConnectionHandler extends DownstreamHandler implements ExchangeListener {
  /** This listener's request settings in the current generation. */
  private final Supplier<ConnectionContext> contexts;
  /**
   * The settings the request in progress was read with (the current generation's when it
   * arrived): a reload applies to each open connection's next request, never half-way through one.
   */
  protected ConnectionContext context;
  private final ClientTimeouts timeouts;
  /** The client side: this connection, or this HTTP/2 stream; null until the channel is active. */
  protected Downstream downstream;
  private HttpExchange exchange;
  /** Request being answered locally whose body is still arriving (discarded). */
  private boolean discardingBody;
  /**
   * The request in progress did not ask to keep the connection ({@code Connection: close}, or
   * HTTP/1.0 without {@code keep-alive}): a local reply to it closes the connection after it is sent
   * (RFC 9112 §9.6), as a relayed response does ({@link Framing#clientKeepAlive}).
   */
  private boolean clientAsksClose;
  /**
   * The request in progress is HTTP/1.0: a local reply that keeps the connection says so
   * ({@code Connection: keep-alive}, RFC 9112 §C.2.2), as a relayed response does.
   */
  private boolean clientHttp10;
  private RequestInfo current;
  /**
   * The client of this connection (behind a PROXY-protocol balancer, the one its header named),
   * read once per connection.
   */
  protected ClientAddress client;
  /** {@code client}'s IP address as text: the key of per-client limits, hashing and the log. */
  protected String clientIp = "-";
  /**
   * Whether this serves an HTTP/2 stream: its requests come as HTTP/1.1 heads
   * ({@code http.Http2StreamCodec}), so this, read once per connection, is what says the client
   * spoke HTTP/2 (to the access log and to {@code Via}, RFC 9110 §7.6.3).
   */
  protected boolean http2;

  protected ProxyConnectionHandler(Supplier<ConnectionContext> contexts, ClientTimeouts timeouts) {
    this.contexts = contexts;
    this.context = contexts.get();
    this.timeouts = timeouts;
  }

  /** One per connection or stream. A constant: Netty asks at every add (a per-thread map look-up, ~1% per h2 stream). */
  @Override
  public boolean isSharable() {
    return false;
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
    if (downstream == null) {
      start(new Http1Downstream(ctx.channel(), ctx.pipeline().context(PipelineNames.FLOW_CONTROL), timeouts, this::stage));
    }
  }

  /**
   * Starts serving {@code side}: a client side without a pipeline of its own (an HTTP/2 stream of
   * the connection's stream table) calls this, then {@link #onMessage} and the other entry points
   * where a pipeline calls the channel-handler methods.
   */
  @Override
  public final void start(Downstream side) {
    downstream = side;
    client = side.clientAddress(); // an HTTP/2 stream: its connection's client
    clientIp = client.ip();
    http2 = side.http2();
    side.read();
  }

  @Override
  final Supplier<Downstream.Stage> stages() {
    return this::stage;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    onMessage(msg);
  }

  /** A message from the client side: a request head, a part of its body, or its end. */
  @Override
  public final void onMessage(Object msg) {
    if (downstream.lingering()) {
      ReferenceCountUtil.release(msg);
      downstream.lingerOn();
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
    downstream.read();
  }

  private void onRequest(HttpRequest request) {
    if (request.decoderResult().cause() instanceof PrematureChannelClosureException) {
      // The client half-closed in the middle of a request head: an abort, nothing to answer.
      current = RequestInfo.withoutHead(clock().getAsLong());
      finishRequest(Reason.CLIENT_ABORTED, 0, 0, 0, 0);
      downstream.close();
      return;
    }
    context = contexts.get();
    clientAsksClose = !RequestChecks.keepsConnection(request);
    clientHttp10 = request.protocolVersion().equals(HttpVersion.HTTP_1_0);
    timeouts.exchangeStarted(request.decoderResult().isSuccess() && RequestChecks.announcesBody(request));
    current = RequestInfo.of(request, http2, clock().getAsLong(), context.observer().needsRefererAndUserAgent());
    RequestChecks.Refusal refusal = RequestChecks.check(request, context.maxBodyBytes(), context.maxHeaderFields());
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
    RequestPause.run(downstream.eventLoop(), clock(), decision, d -> {
      if (current != waiting || !downstream.isActive()) {
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

  /**
   * The request phase of {@code Max-Forwards} (RFC 9110 §7.6.2), run by each proxy once the request
   * is admitted and before any upstream work: a TRACE or OPTIONS that may pass no more
   * intermediaries ({@code Max-Forwards: 0}) is answered here, as its final recipient (200; a TRACE
   * gets itself back, {@link MaxForwards#answer}), and true is returned; one that may pass more goes
   * on with one hop fewer.
   */
  protected final boolean answeredAsFinalRecipient(HttpRequest request) {
    long hops = MaxForwards.remaining(request);
    if (hops == 0) {
      reply(Reason.MAX_FORWARDS, null, expectsContinue(request), response -> MaxForwards.answer(request, response));
      return true;
    }
    if (hops > 0) {
      MaxForwards.decrement(request, hops);
    }
    return false;
  }

  /** Starts relaying {@code request} to an upstream from {@code connector}. */
  protected final void startExchange(HttpRequest request, UpstreamConnector connector, ExchangeSettings settings) {
    // A gRPC call's body is a stream of messages the server may answer as they come: never held back.
    long buffer = context.requestBufferBytes() > 0 && RequestChecks.announcesBody(request) && RequestChecks.isGrpc(request)
        ? 0 : context.requestBufferBytes();
    exchange = new HttpExchange(downstream, request, connector, this, settings, buffer);
    exchange.start();
  }

  /** Answers the current request locally; {@code close} when the connection cannot be reused. */
  protected final void reply(Reason reason, String detail, boolean close) {
    reply(reason, detail, close, null);
  }

  /** As {@link #reply(Reason, String, boolean)}, letting the caller add headers to the response. */
  protected final void reply(Reason reason, String detail, boolean close, java.util.function.Consumer<FullHttpResponse> decorate) {
    if (sendReply(reason, detail, close || clientAsksClose || downstream.draining(), decorate, 0, 0)) {
      discardingBody = true; // skip this request's body, if any, then read on
      downstream.read();
    }
  }

  /**
   * Writes a local reply, counts it, and ends the request's record; closes lingering when
   * {@code close}.
   *
   * @return whether the connection stays open
   */
  private boolean sendReply(Reason reason, String detail, boolean close, java.util.function.Consumer<FullHttpResponse> decorate,
      long bytesIn, long upstreamNanos) {
    FullHttpResponse response = LocalReply.build(downstream.alloc(), reason.status(), detail, close);
    if (!close && clientHttp10) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    if (decorate != null) {
      decorate.accept(response);
    }
    context.observer().localReply(reason);
    // The body bytes the client gets, as nginx logs its own pages ($body_bytes_sent); none for a HEAD.
    RequestInfo info = current;
    long bodyBytes = info != null && "HEAD".equals(info.method) ? 0 : response.content().readableBytes();
    downstream.writeReply(response);
    finishRequest(reason, reason.status().code(), bytesIn, bodyBytes, upstreamNanos);
    if (close) {
      downstream.linger();
    }
    return !close;
  }

  private void onContent(HttpContent content) {
    if (content instanceof LastHttpContent) {
      timeouts.bodyComplete();
    }
    if (exchange != null && !exchange.isDone()) {
      boolean last = content instanceof LastHttpContent;
      exchange.onClientContent(content);
      if (last && exchange != null && !exchange.isDone()) {
        downstream.prefetch();
      }
      return;
    }
    boolean last = content instanceof LastHttpContent;
    content.release();
    if (discardingBody && last) {
      discardingBody = false;
      timeouts.exchangeEnded();
      readNextRequest();
      return;
    }
    downstream.read();
  }

  @Override
  public void replyLocally(HttpExchange ex, Reason reason, String detail) {
    exchange = null;
    // A bodiless request whose (empty) end was not read yet, because the upstream failed before
    // the exchange asked for it, leaves the connection in sync: that end is skipped below.
    boolean unreadBody = !ex.requestComplete() && ex.requestHasBody();
    boolean close = unreadBody || reason.closesConnection() || clientAsksClose || downstream.draining();
    discardingBody = !close && !ex.requestComplete();
    current.upstream = ex.upstreamLabel();
    if (sendReply(reason, detail, close, null, ex.requestBodyBytes(), ex.upstreamNanos())) {
      afterExchange(true);
    }
  }

  @Override
  public void exchangeUpgraded(HttpExchange ex, Channel upstream) {
    exchange = null;
    RequestInfo info = current;
    info.upstream = ex.upstreamLabel();
    ProtocolUpgrade.install(downstream.channel(), this, upstream, context.tunnelIdleNanos(), clock(), new TunnelRelay.Listener() {
      @Override
      public void tunnelClosed(Tunnel tunnel) {
        current = info;
        finishRequest(tunnel.cutAtDrainDeadline() ? Reason.DRAIN_DEADLINE : Reason.OK, 101, tunnel.bytesUp(),
            tunnel.bytesDown(), ex.upstreamNanos());
      }

      @Override
      public ExchangeRecord recordSoFar(Tunnel tunnel) {
        return recordOf(info, Reason.OK, 101, tunnel.bytesUp(), tunnel.bytesDown(), ex.upstreamNanos());
      }
    });
  }

  @Override
  public boolean draining() {
    return downstream.draining();
  }

  @Override
  public void exchangeDone(HttpExchange ex, boolean keepClientOpen) {
    exchange = null;
    current.upstream = ex.upstreamLabel();
    finishRequest(ex.outcome(), ex.status(), ex.requestBodyBytes(), ex.responseBodyBytes(), ex.upstreamNanos());
    if (!keepClientOpen && !ex.requestComplete() && downstream.isActive()) {
      downstream.linger(); // the upstream answered before the upload ended: the client is still sending
    } else {
      // A head that promised keep-alive keeps it, even if the drain reached the connection since:
      // the client may send its next request right after this response.
      afterExchange(keepClientOpen);
    }
  }

  private void afterExchange(boolean keepOpen) {
    if (!keepOpen || downstream.inputEnded()) {
      downstream.afterFlush();
      return;
    }
    downstream.idleAgain();
    timeouts.exchangeEnded();
    readNextRequest();
  }

  /**
   * Between two requests: reads the next, unless a hand-off's successor takes the connection over,
   * which then reads it ({@link Handover#moveWhenIdle}).
   */
  private void readNextRequest() {
    if (downstream.handover().active()) {
      downstream.handover().moveWhenIdle();
    } else {
      downstream.read();
    }
  }

  /** The exchange whose response a hand-off could move now (see {@link HttpExchange#respondingUpstream}), or null. */
  final HttpExchange respondingExchange() {
    return exchange != null && exchange.respondingUpstream() != null ? exchange : null;
  }

  /** The record of the exchange in progress as of now, for a successor that carries it on. */
  final ExchangeRecord recordSoFar(HttpExchange ex) {
    current.upstream = ex.upstreamLabel();
    return recordOf(current, Reason.OK, ex.status(), ex.requestBodyBytes(), ex.responseBodyBytes(), ex.upstreamNanosSoFar());
  }

  /** A successor carries on the response in flight: nothing of it is left to this connection. */
  final void responseMovedAway(HttpExchange ex) {
    ex.movedAway();
    exchange = null;
    current = null;
  }

  /**
   * The proxy handler of client connection {@code ch} once it started (it has its {@link #handover}),
   * or null (not an HTTP/1 connection of a proxy listener, or not started). Any thread.
   */
  static ProxyConnectionHandler started(Channel ch) {
    return ch.pipeline().get(PipelineNames.PROXY) instanceof ProxyConnectionHandler handler && handler.handover() != null
        ? handler : null;
  }

  /** This connection's part in a hand-off to a successor process; null before the channel is active. */
  final Handover handover() {
    return downstream == null ? null : downstream.handover();
  }

  private void finishRequest(Reason outcome, int status, long in, long out, long upstreamNanos) {
    RequestInfo info = current;
    if (info == null) {
      return;
    }
    if (downstream.drainDeadline() && outcome == Reason.CLIENT_ABORTED) {
      outcome = Reason.DRAIN_DEADLINE;
    }
    current = null;
    context.observer().exchangeFinished(recordOf(info, outcome, status, in, out, upstreamNanos));
  }
  /** The access-log record of the request {@code info} describes, as of now, on this connection. */
  private ExchangeRecord recordOf(RequestInfo info, Reason outcome, int status, long in, long out, long upstreamNanos) {
    return ExchangeRecord.of(context.listenerName(), clientIp, info, outcome, status, in, out, upstreamNanos,
        clock().getAsLong());
  }


  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (!onEvent(evt)) {
      super.userEventTriggered(ctx, evt);
    }
  }

  /** An event of the client side (a timeout, a drain signal, its end of input); whether it was one of them. */
  @Override
  public final boolean onEvent(Object evt) {
    if (evt == ClientTimeouts.BODY_TIMEOUT) {
      if (exchange != null && !exchange.isDone()) {
        exchange.abort(Reason.BODY_TIMEOUT, "request body not received in time"); // 408 unless the response started
      } else if (!downstream.lingering()) {
        downstream.close(); // a body being discarded after a local reply stopped coming
      }
      return true;
    }
    if (evt == ClientTimeouts.CLIENT_TOO_SLOW) {
      onClientTooSlow();
      return true;
    }
    if (evt == ClientTimeouts.HEADER_TIMEOUT && exchange == null) {
      current = RequestInfo.withoutHead(clock().getAsLong());
      reply(Reason.HEADER_TIMEOUT, "request head not received in time", true);
      return true;
    }
    if (evt instanceof ChannelInputShutdownEvent) {
      downstream.onInputEnded();
      return true;
    }
    if (evt instanceof ChannelInputShutdownReadComplete) {
      return true; // a read after the half-close: nothing more will come
    }
    if (evt instanceof DrainSignal drain) {
      downstream.onDrain(drain);
      return true;
    }
    return false;
  }

  /**
   * The client sends its body or takes its response slower than the minimum rate: 408 while no
   * response has started, otherwise the connection is cut with a reset, which also drops what it
   * left unread ({@link Downstream#resetOnClose}), and counted, as no reply counts it.
   */
  private void onClientTooSlow() {
    if (exchange != null && !exchange.isDone()) {
      if (exchange.responseStarted()) {
        context.observer().localReply(Reason.CLIENT_TOO_SLOW);
        downstream.resetOnClose();
      }
      exchange.abort(Reason.CLIENT_TOO_SLOW, "request body or response read slower than the minimum rate");
    } else if (!downstream.lingering()) {
      context.observer().localReply(Reason.CLIENT_TOO_SLOW);
      if (!discardingBody) {
        downstream.resetOnClose(); // a response it stopped reading (its end still queued here)
      }
      downstream.close();
    }
  }

  private Downstream.Stage stage() {
    if (exchange != null && !exchange.isDone()) {
      return exchange.requestComplete() ? Downstream.Stage.RESPONDING : Downstream.Stage.READING_BODY;
    }
    if (exchange == null && current == null) {
      return Downstream.Stage.IDLE;
    }
    return discardingBody ? Downstream.Stage.DISCARDING_BODY : Downstream.Stage.WAITING;
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    onWritabilityChanged();
    super.channelWritabilityChanged(ctx);
  }

  /** The client side became writable or not. */
  @Override
  public final void onWritabilityChanged() {
    if (exchange != null && !downstream.handover().frozen()) { // a hand-off's freeze keeps the upstream from reading until it thaws
      exchange.onClientWritabilityChanged();
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    onClosed();
    super.channelInactive(ctx);
  }

  /** The client side closed (a stream: ended or reset): what is in progress ends as the client's abort. */
  @Override
  public void onClosed() {
    if (exchange != null) {
      exchange.onClientClosed();
    } else if (current != null) {
      // The client left while its request waited on something asynchronous (a login check, DNS,
      // a tunnel's connect): it still gets its access-log line.
      finishRequest(Reason.CLIENT_ABORTED, 0, 0, 0, 0);
    }
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

  /**
   * A client that asked for 100-continue and got a final answer may or may not send its body
   * (RFC 9110 §10.1.1); the connection cannot be reused safely after a local reply.
   */
  protected static boolean expectsContinue(HttpRequest request) {
    return RequestChecks.expectsContinue(request);
  }
}
