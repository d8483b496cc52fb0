package io.gatehouse.relay;

import io.gatehouse.http.HopByHop;
import io.gatehouse.http.Reason;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Streams one HTTP request from the client to an upstream and its response back, on the client's
 * event loop. Bodies pass through as the same buffers, never aggregated; the receiving side's
 * writability drives reading on the sending side (client reads on demand; the upstream's autoRead
 * follows the client's writability).
 *
 * <p>Framing is owned here (RFC 9112 §6): hop-by-hop fields are stripped and {@code
 * Transfer-Encoding: chunked} is set again only where this proxy frames the message that way.
 *
 * <p>A request that failed on a reused connection before any body byte was sent is replayed on a
 * fresh connection: an upstream closing an idle keep-alive connection is never the client's error.
 * All fields are confined to the client's event loop, so none is volatile.
 */
public final class HttpExchange {
  private final Channel client;
  private final HttpRequest request;
  private final UpstreamConnector connector;
  private final ExchangeListener listener;
  private final ExchangeSettings settings;
  private final boolean requestHasBody;
  private final boolean clientWantsKeepAlive;
  private final boolean clientIsHttp10;
  private final boolean headRequest;
  private final long startNanos;

  private Channel upstream;
  private UpstreamHandler upstreamHandler;
  private boolean reused;
  private int attempt;
  private boolean awaitingClientContent;
  private boolean requestComplete;
  private boolean bodyForwarded;
  private long requestBodyBytes;
  private boolean responseStarted;
  private boolean informational;
  private boolean upstreamKeepAlive;
  private boolean clientKeepAlive;
  private boolean done;
  private int status;
  private long responseBodyBytes;
  private long upstreamStartNanos;
  private long upstreamNanos;
  private Reason outcome = Reason.OK;
  private ScheduledFuture<?> responseTimer;

  public HttpExchange(
      Channel client,
      HttpRequest request,
      UpstreamConnector connector,
      ExchangeListener listener,
      ExchangeSettings settings) {
    this.client = client;
    this.request = request;
    this.connector = connector;
    this.listener = listener;
    this.settings = settings;
    this.startNanos = settings.clock().getAsLong();
    this.clientWantsKeepAlive = HttpUtil.isKeepAlive(request);
    this.clientIsHttp10 = request.protocolVersion().equals(HttpVersion.HTTP_1_0);
    this.headRequest = HttpMethod.HEAD.equals(request.method());
    boolean chunked = HttpUtil.isTransferEncodingChunked(request);
    this.requestHasBody = chunked || HttpUtil.getContentLength(request, 0L) > 0;
    HopByHop.strip(request.headers());
    if (chunked) {
      request.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    request.setProtocolVersion(HttpVersion.HTTP_1_1);
  }

  /** Starts the first attempt. */
  public void start() {
    connect(false);
  }

  public HttpRequest request() {
    return request;
  }

  public int status() {
    return status;
  }

  public Reason outcome() {
    return outcome;
  }

  public long requestBodyBytes() {
    return requestBodyBytes;
  }

  public long responseBodyBytes() {
    return responseBodyBytes;
  }

  public long startNanos() {
    return startNanos;
  }

  /** Time from the first upstream connection attempt to the end of the response. */
  public long upstreamNanos() {
    return upstreamNanos;
  }

  public String upstreamLabel() {
    return connector.upstreamLabel();
  }

  public boolean isDone() {
    return done;
  }

  // ---- connecting

  private void connect(boolean fresh) {
    if (upstreamStartNanos == 0) {
      upstreamStartNanos = settings.clock().getAsLong();
    }
    connector.connect(attempt, fresh, new UpstreamConnector.ConnectCallback() {
      @Override
      public void connected(Channel ch, boolean wasReused) {
        onConnected(ch, wasReused);
      }

      @Override
      public void failed(Reason reason, Throwable cause) {
        onConnectFailed(reason);
      }
    });
  }

  private void onConnected(Channel ch, boolean wasReused) {
    if (done) {
      connector.finish(ch, true, Reason.OK, 0); // the client left while we connected
      return;
    }
    upstream = ch;
    reused = wasReused;
    upstreamHandler = ch.pipeline().get(UpstreamHandler.class);
    upstreamHandler.attach(this);
    ch.config().setAutoRead(client.isWritable());
    if (requestComplete) { // a replay: the whole request was bodiless or its body empty
      ch.write(request);
      sendLast(LastHttpContent.EMPTY_LAST_CONTENT);
      return;
    }
    if (requestHasBody) {
      ch.writeAndFlush(request); // flushed now: the client may wait for 100-continue
    } else {
      ch.write(request); // its empty last content is already decoded; it flushes both
    }
    readClient();
  }

  private void onConnectFailed(Reason reason) {
    if (done) {
      return;
    }
    if (connector.mayRetry(attempt, reason)) {
      attempt++;
      connect(false);
      return;
    }
    fail(reason, null);
  }

  // ---- client -> upstream

  /** A part of the request body from the client. */
  public void onClientContent(HttpContent content) {
    awaitingClientContent = false;
    if (done || upstream == null) {
      content.release();
      return;
    }
    requestBodyBytes += content.content().readableBytes();
    if (requestBodyBytes > settings.maxBodyBytes()) {
      content.release();
      fail(Reason.BODY_TOO_LARGE, "body larger than " + settings.maxBodyBytes() + " bytes");
      return;
    }
    if (content.content().isReadable()) {
      bodyForwarded = true;
    }
    if (content instanceof LastHttpContent) {
      requestComplete = true;
      sendLast((LastHttpContent) content);
      return;
    }
    upstream.writeAndFlush(content);
    if (upstream.isWritable()) {
      readClient();
    }
  }

  private void sendLast(LastHttpContent last) {
    upstream.writeAndFlush(last).addListener(f -> {
      if (!f.isSuccess()) {
        onUpstreamClosed(f.cause());
      }
    });
    armResponseTimer();
  }

  private void readClient() {
    if (!requestComplete && !awaitingClientContent) {
      awaitingClientContent = true;
      client.read();
    }
  }

  void onUpstreamWritabilityChanged() {
    if (upstream != null && upstream.isWritable() && !requestComplete) {
      readClient();
    }
  }

  // ---- upstream -> client

  void onUpstreamRead(Object msg) {
    if (done) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse) {
      if (retryOnStatus((HttpResponse) msg)) {
        return;
      }
      onResponseHead((HttpResponse) msg);
      if (done || !(msg instanceof HttpContent)) {
        return;
      }
    }
    if (msg instanceof HttpContent) {
      onResponseContent((HttpContent) msg);
    } else {
      ReferenceCountUtil.release(msg);
    }
  }

  /**
   * A final status the route retries on, for a request without a body (so nothing needs buffering
   * to send it again): drop this response and its connection, and try another endpoint.
   */
  private boolean retryOnStatus(HttpResponse response) {
    int code = response.status().code();
    if (response.decoderResult().isFailure() || code < 200 || requestHasBody || !requestComplete
        || responseStarted || !connector.mayRetryStatus(attempt, code)) {
      return false;
    }
    ReferenceCountUtil.release(response);
    status = code; // accounted to the endpoint (a 5xx counts towards its ejection)
    detachUpstream(false, Reason.OK);
    status = 0;
    attempt++;
    connect(false);
    return true;
  }

  private void onResponseHead(HttpResponse response) {
    if (response.decoderResult().isFailure()) {
      ReferenceCountUtil.release(response);
      closeUpstream();
      fail(Reason.UPSTREAM_BAD_RESPONSE, "malformed response");
      return;
    }
    int code = response.status().code();
    if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
      informational = true;
      if (code == 101 || clientIsHttp10) { // upgrades are not relayed; 1.0 clients know no 1xx
        if (code == 101) {
          closeUpstream();
          fail(Reason.UPSTREAM_BAD_RESPONSE, "unexpected protocol switch");
        }
        return;
      }
      HopByHop.strip(response.headers());
      client.writeAndFlush(response);
      return;
    }
    cancelResponseTimer();
    responseStarted = true;
    status = code;
    upstreamKeepAlive = HttpUtil.isKeepAlive(response);
    boolean chunked = HttpUtil.isTransferEncodingChunked(response);
    boolean bodyless = headRequest || code == 204 || code == 304;
    boolean delimited = chunked || response.headers().contains(HttpHeaderNames.CONTENT_LENGTH);
    HopByHop.strip(response.headers());
    clientKeepAlive = clientWantsKeepAlive && requestComplete && !settings.closeAfterResponse();
    if (!bodyless && !delimited && (chunked || !clientIsHttp10)) {
      chunked = true; // read-until-close upstream body: chunk it so the client connection survives
    } else if (!bodyless && !delimited) {
      clientKeepAlive = false; // HTTP/1.0 client: the end of the body is the close
    }
    if (chunked && !bodyless) {
      response.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    if (!clientKeepAlive) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (clientIsHttp10) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
    if (settings.addVia()) {
      io.gatehouse.http.ClientIdentity.addVia(response.headers());
    }
    response.setProtocolVersion(HttpVersion.HTTP_1_1);
    client.write(response);
  }

  private void onResponseContent(HttpContent content) {
    if (informational) {
      content.release(); // the empty end of a 1xx
      if (content instanceof LastHttpContent) {
        informational = false;
      }
      return;
    }
    if (!responseStarted) {
      content.release();
      return;
    }
    responseBodyBytes += content.content().readableBytes();
    client.write(content);
    if (content instanceof LastHttpContent) {
      complete();
    }
  }

  void onUpstreamReadComplete() {
    client.flush();
    if (!client.isWritable() && upstream != null) {
      upstream.config().setAutoRead(false);
    }
  }

  /** The client's channel became writable or not: the upstream reads only while it is. */
  public void onClientWritabilityChanged() {
    if (upstream != null && !done) {
      upstream.config().setAutoRead(client.isWritable());
    }
  }

  // ---- endings

  private void complete() {
    done = true;
    cancelResponseTimer();
    upstreamNanos = settings.clock().getAsLong() - upstreamStartNanos;
    boolean reusable = upstreamKeepAlive && requestComplete;
    releaseUpstream(reusable, Reason.OK);
    client.flush();
    listener.exchangeDone(this, clientKeepAlive);
  }

  /** The upstream closed or failed; {@code cause} is null for a plain close. */
  void onUpstreamClosed(Throwable cause) {
    if (done || upstream == null) {
      return;
    }
    if (!responseStarted && !bodyForwarded) {
      if (reused) { // stale keep-alive connection: replay on a fresh one, no retry budget used
        detachUpstream(false, Reason.OK);
        connect(true);
        return;
      }
      if (!informational && connector.mayRetry(attempt, Reason.UPSTREAM_RESET)) {
        detachUpstream(false, Reason.UPSTREAM_RESET);
        attempt++;
        connect(false);
        return;
      }
    }
    fail(Reason.UPSTREAM_RESET, null);
  }

  /** The client connection closed before the exchange ended. */
  public void onClientClosed() {
    if (done) {
      return;
    }
    done = true;
    outcome = Reason.CLIENT_ABORTED;
    cancelResponseTimer();
    if (upstream != null) {
      closeUpstream();
      releaseUpstream(false, Reason.CLIENT_ABORTED);
    } else {
      connector.finish(null, false, Reason.CLIENT_ABORTED, 0);
    }
    listener.exchangeDone(this, false);
  }

  private void fail(Reason reason, String detail) {
    if (done) {
      return;
    }
    done = true;
    outcome = reason;
    cancelResponseTimer();
    upstreamNanos = settings.clock().getAsLong() - upstreamStartNanos;
    if (upstream != null) {
      closeUpstream();
      releaseUpstream(false, reason);
    } else {
      connector.finish(null, false, reason, 0);
    }
    if (responseStarted) {
      client.close(); // mid-body: the only honest signal left is an abrupt end
      listener.exchangeDone(this, false);
    } else {
      status = reason.status() == null ? 0 : reason.status().code();
      listener.replyLocally(this, reason, detail);
    }
  }

  private void closeUpstream() {
    if (upstream != null) {
      upstream.close();
    }
  }

  private void releaseUpstream(boolean reusable, Reason failure) {
    detachUpstream(reusable, failure);
  }

  private void detachUpstream(boolean reusable, Reason failure) {
    cancelResponseTimer(); // the timer times one try
    Channel ch = upstream;
    upstream = null;
    if (upstreamHandler != null) {
      upstreamHandler.detach();
      upstreamHandler = null;
    }
    if (!reusable) {
      ch.close();
    }
    connector.finish(ch, reusable, failure, status);
  }

  private void armResponseTimer() {
    if (responseTimer == null && settings.responseTimeoutNanos() > 0) {
      responseTimer =
          client.eventLoop().schedule(this::onResponseTimeout, settings.responseTimeoutNanos(), TimeUnit.NANOSECONDS);
    }
  }

  private void cancelResponseTimer() {
    if (responseTimer != null) {
      responseTimer.cancel(false);
      responseTimer = null;
    }
  }

  private void onResponseTimeout() {
    responseTimer = null;
    if (!done && !responseStarted && upstream != null && !bodyForwarded && !informational
        && connector.mayRetry(attempt, Reason.UPSTREAM_TIMEOUT)) {
      detachUpstream(false, Reason.UPSTREAM_TIMEOUT); // per-try timeout: the next try gets its own
      attempt++;
      connect(false);
      return;
    }
    if (!done && !responseStarted) {
      fail(Reason.UPSTREAM_TIMEOUT, "no response within " + TimeUnit.NANOSECONDS.toMillis(settings.responseTimeoutNanos()) + " ms");
    }
  }

  /** Whether the whole request was read from the client (so the connection can carry another). */
  public boolean requestComplete() {
    return requestComplete;
  }

}
