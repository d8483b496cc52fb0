package io.gatehouse.relay;

import io.gatehouse.http.ClientTimeoutHandler;
import io.gatehouse.http.LocalReply;
import io.gatehouse.http.PipelineNames;
import io.gatehouse.http.Reason;
import io.gatehouse.http.RequestChecks;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
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
  /** A read() was asked for and no message has arrived yet (see {@link #channelReadComplete}). */
  private boolean readPending;
  /** A closing local reply was sent: input is read and dropped until the client closes (lingering close). */
  private boolean lingering;

  protected ProxyConnectionHandler(ConnectionContext context, ClientTimeoutHandler timeouts) {
    this.context = context;
    this.timeouts = timeouts;
  }

  /** Facts about the request in progress, filled by the subclass for the access log. */
  protected static final class RequestInfo {
    String method;
    String authority;
    String target;
    long startNanos;
    public String route;
    public String cluster;
    public String user;
    public String rule;
    public String upstream;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    channel = ctx.channel();
    super.channelActive(ctx);
    read();
  }

  /** Asks for the next decoded message (autoRead is off). */
  private void read() {
    readPending = true;
    channel.read();
  }

  /**
   * Netty 4.2's FlowControlHandler forgets a read() that produced no message by the end of the read
   * cycle. That happens whenever the codec needs more bytes than one socket read gave: a request
   * head or a chunk-size line split across packets. Nobody would ask again and the connection
   * would hang, so ask again here.
   */
  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    if (exchange != null && !exchange.isDone()) {
      exchange.onClientReadComplete();
    } else if (readPending && !lingering) {
      channel.read();
    }
    super.channelReadComplete(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    readPending = false;
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
    read();
  }

  private void onRequest(HttpRequest request) {
    timeouts.exchangeStarted();
    current = new RequestInfo();
    current.startNanos = clock().getAsLong();
    current.method = request.method().name();
    current.target = request.uri();
    current.authority = request.headers().get(HttpHeaderNames.HOST);
    RequestChecks.Refusal refusal = RequestChecks.check(request, context.maxBodyBytes());
    if (refusal != null) {
      reply(refusal.reason(), refusal.detail(), refusal.reason().closesConnection() || expectsContinue(request));
      return;
    }
    handleRequest(request, current);
  }

  /**
   * Decides what to do with a valid request head: call {@link #startExchange} or {@link #reply}.
   */
  protected abstract void handleRequest(HttpRequest request, RequestInfo info);

  /** Starts relaying {@code request} to an upstream from {@code connector}. */
  protected final void startExchange(HttpRequest request, UpstreamConnector connector, ExchangeSettings settings) {
    exchange = new HttpExchange(channel, request, connector, this, settings);
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
      read();
    }
  }

  private void onContent(HttpContent content) {
    if (exchange != null && !exchange.isDone()) {
      exchange.onClientContent(content);
      return;
    }
    boolean last = content instanceof LastHttpContent;
    content.release();
    if (discardingBody && last) {
      discardingBody = false;
      timeouts.exchangeEnded();
    }
    read();
  }

  @Override
  public void replyLocally(HttpExchange ex, Reason reason, String detail) {
    exchange = null;
    // A bodiless request whose (empty) end was not read yet, because the upstream failed before
    // the exchange asked for it, leaves the connection in sync: it is skipped below. Closing here
    // cost every client a connection on each 502/503.
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
    if (!keepOpen) {
      channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    timeouts.exchangeEnded();
    read();
  }

  /**
   * Closes after a local reply without losing it. A plain close while request bytes are still
   * unread makes the kernel send RST, and a client that receives RST before it read the reply
   * loses the reply (RFC 9112 §9.6). So: flush, half-close (FIN after the reply), drop whatever
   * the client still sends, and close when it closes or after {@link #LINGER_MILLIS}.
   */
  private void lingeringClose() {
    lingering = true;
    if (!(channel instanceof DuplexChannel) || channel.pipeline().get(PipelineNames.TLS) != null) {
      channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      return; // TLS: a half-close under the TLS layer would skip close_notify
    }
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
    current = null;
    InetSocketAddress remote = (InetSocketAddress) channel.remoteAddress();
    context.observer().exchangeFinished(new ExchangeRecord(
        context.listenerName(),
        remote == null ? "-" : remote.getAddress().getHostAddress(),
        info.user,
        info.method,
        info.authority,
        info.target,
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
    if (evt == ClientTimeoutHandler.HEADER_TIMEOUT && exchange == null) {
      current = new RequestInfo();
      current.startNanos = clock().getAsLong();
      current.method = "-";
      reply(Reason.HEADER_TIMEOUT, "request head not received in time", true);
      return;
    }
    if (evt == ClientTimeoutHandler.BODY_TIMEOUT) {
      if (exchange != null && !exchange.isDone()) {
        exchange.onClientBodyTimeout(); // 408 unless the response has started
      } else if (!lingering) {
        channel.close(); // a body being discarded after a local reply stopped coming
      }
      return;
    }
    if (evt == DrainSignal.INSTANCE) {
      draining = true;
      if (exchange != null) {
        exchange.closeClientAfterResponse(); // so its response says Connection: close
      }
      if (exchange == null && current == null) {
        channel.close(); // idle keep-alive connection: nothing in flight
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
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
    if (exchange != null) {
      exchange.onClientClosed();
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

  /**
   * A client that asked for 100-continue and got a final answer may or may not send its body
   * (RFC 9110 §10.1.1); the connection cannot be reused safely after a local reply.
   */
  protected static boolean expectsContinue(HttpRequest request) {
    return HttpUtil.is100ContinueExpected(request);
  }
}
