package io.gatehouse.relay;

import io.gatehouse.http.HopByHop;
import io.gatehouse.http.Reason;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
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
import java.util.ArrayDeque;
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
  /**
   * Body bytes kept while a request goes out on a reused connection, so that it can be sent again
   * if that connection turns out to have been closed by the upstream. Larger bodies are streamed
   * without a copy and are not replayed.
   */
  static final int REPLAY_LIMIT = 64 * 1024;

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
  /** From the settings, or set when a drain starts during the exchange. */
  private boolean closeAfterResponse;
  private ScheduledFuture<?> responseTimer;
  /** Body parts sent on the current reused connection (retained copies). */
  private final ReplayBuffer replayBuffer = new ReplayBuffer(REPLAY_LIMIT);
  /** A body part that arrived between two attempts, for the next connection. */
  private HttpContent held;

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
    this.closeAfterResponse = settings.closeAfterResponse();
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

  /**
   * Connects again, but not from inside the failed connection's event handling. Closing it freed
   * its file descriptor; a socket opened right away may get the same number, and an epoll event
   * for the old socket still pending in the batch being processed is then delivered to the new one
   * (it failed with NotYetConnectedException, so the replay of a stale request became a 502).
   */
  private void connectLater(boolean fresh) {
    client.eventLoop().execute(() -> {
      if (!done) {
        connect(fresh);
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
    ArrayDeque<HttpContent> replay = replayBuffer.take();
    if (replay != null && !replay.isEmpty()) { // a replay: head and every body part sent so far
      ch.write(request);
      HttpContent part;
      while ((part = replay.poll()) != null) {
        if (part instanceof LastHttpContent) {
          sendLast((LastHttpContent) part);
        } else {
          ch.write(part);
        }
      }
      if (!requestComplete) {
        ch.flush();
        continueReading();
      }
      return;
    }
    if (requestComplete) { // a replay: the whole request was bodiless or its body empty
      ch.write(request);
      sendLast(LastHttpContent.EMPTY_LAST_CONTENT);
      return;
    }
    if (requestHasBody && HttpUtil.is100ContinueExpected(request)) {
      ch.writeAndFlush(request); // flushed now: the client waits for 100 Continue before its body
    } else {
      // Flushed with the first body part (or the empty last content of a bodiless request). If
      // that part turns out malformed (a bad chunk size in the same packet as the head), nothing
      // of the request has left the proxy when the exchange fails.
      ch.write(request);
    }
    continueReading();
  }

  /** Goes on with the body: the part that arrived between attempts, or the next one. */
  private void continueReading() {
    HttpContent next = held;
    if (next != null) {
      held = null;
      onClientContent(next);
    } else {
      readClient();
    }
  }

  private void onConnectFailed(Reason reason) {
    if (done) {
      return;
    }
    if (connector.mayRetry(attempt, reason)) {
      attempt++;
      connectLater(false);
      return;
    }
    fail(reason, null);
  }

  // ---- client -> upstream

  /** A part of the request body from the client. */
  public void onClientContent(HttpContent content) {
    awaitingClientContent = false;
    if (done) {
      content.release();
      return;
    }
    if (upstream == null) {
      // Between two attempts (a stale connection being replaced): dropping this part, as was done
      // before, sent the next connection a request with a hole in its body.
      held = content;
      return;
    }
    if (content.decoderResult().isFailure()) {
      // Bad chunk size or chunk framing (RFC 9112 §7.1): the body cannot be delimited, so the
      // request must never look complete upstream. Close it there and answer 400 here.
      Throwable cause = content.decoderResult().cause();
      content.release();
      fail(Reason.MALFORMED, "malformed request body" + (cause == null || cause.getMessage() == null ? "" : ": "
          + cause.getMessage().replaceAll("[^\\x20-\\x7e]", "?")));
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
    keepForReplay(content);
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
    Channel ch = upstream;
    ch.writeAndFlush(last).addListener(f -> {
      if (!f.isSuccess() && upstream == ch) { // not a connection this exchange has already replaced
        onUpstreamClosed(f.cause());
      }
    });
    armResponseTimer();
  }

  /** On a reused connection, keeps a copy of each body part until the response starts. */
  private void keepForReplay(HttpContent content) {
    if (reused && !responseStarted) {
      replayBuffer.add(content);
    }
  }

  private void releaseReplay() {
    replayBuffer.release();
  }

  private void releaseHeld() {
    if (held != null) {
      held.release();
      held = null;
    }
  }

  private void readClient() {
    if (!requestComplete && !awaitingClientContent) {
      awaitingClientContent = true;
      client.read();
    }
  }

  /**
   * End of a client read cycle. A read that produced no message (the codec needed more bytes) is
   * forgotten by the flow-control handler, so it is asked for again.
   */
  void onClientReadComplete() {
    if (awaitingClientContent && !requestComplete && !done) {
      client.read();
    }
  }

  /** The client stopped sending its body (see ClientTimeoutHandler#BODY_TIMEOUT). */
  void onClientBodyTimeout() {
    fail(Reason.BODY_TIMEOUT, "request body not received in time");
  }

  /** The client connection closes after this response (the proxy is draining). */
  void closeClientAfterResponse() {
    closeAfterResponse = true;
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
      // Written as a full message: the client encoder frames a bodiless head only once it sees the
      // head's end, and the upstream 1xx's own (empty) end is dropped in onResponseContent. As a
      // bare head it stayed in the encoder: 100 Continue never reached the client and the final
      // response after a 103 was refused by the encoder.
      client.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, response.status(),
          Unpooled.EMPTY_BUFFER, response.headers(), EmptyHttpHeaders.INSTANCE));
      return;
    }
    cancelResponseTimer();
    responseStarted = true;
    releaseReplay(); // an answer came: this request will not be sent again
    status = code;
    upstreamKeepAlive = HttpUtil.isKeepAlive(response);
    boolean chunked = HttpUtil.isTransferEncodingChunked(response);
    boolean bodyless = headRequest || code == 204 || code == 304;
    boolean delimited = chunked || response.headers().contains(HttpHeaderNames.CONTENT_LENGTH);
    HopByHop.strip(response.headers());
    clientKeepAlive = clientWantsKeepAlive && requestComplete && !closeAfterResponse;
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
    releaseReplay();
    releaseHeld();
    cancelResponseTimer();
    upstreamNanos = settings.clock().getAsLong() - upstreamStartNanos;
    boolean reusable = upstreamKeepAlive && requestComplete;
    releaseUpstream(reusable, Reason.OK);
    // Recorded (metrics, access log) before the end of the response is flushed, so that whoever
    // has seen the response also finds it counted.
    listener.exchangeDone(this, clientKeepAlive);
    client.flush();
  }

  /** The upstream closed or failed; {@code cause} is null for a plain close. */
  void onUpstreamClosed(Throwable cause) {
    if (done || upstream == null) {
      return;
    }
    if (!responseStarted && reused && (!bodyForwarded || replayBuffer.complete())) {
      // Stale keep-alive connection (the upstream closed it while idle): send the request again
      // on a fresh one, body parts included, without using the retry budget.
      detachUpstream(false, Reason.OK);
      connectLater(true);
      return;
    }
    if (!responseStarted && !bodyForwarded) {
      if (!informational && connector.mayRetry(attempt, Reason.UPSTREAM_RESET)) {
        detachUpstream(false, Reason.UPSTREAM_RESET);
        attempt++;
        connectLater(false);
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
    releaseReplay();
    releaseHeld();
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
    releaseReplay();
    releaseHeld();
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
    if (!done && !responseStarted) {
      fail(Reason.UPSTREAM_TIMEOUT, "no response within " + TimeUnit.NANOSECONDS.toMillis(settings.responseTimeoutNanos()) + " ms");
    }
  }

  /** Whether the request has a body (a Content-Length above zero, or chunked). */
  public boolean requestHasBody() {
    return requestHasBody;
  }

  /** Whether the whole request was read from the client (so the connection can carry another). */
  public boolean requestComplete() {
    return requestComplete;
  }

}
