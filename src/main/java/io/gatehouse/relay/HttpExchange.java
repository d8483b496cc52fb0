package io.gatehouse.relay;

import io.gatehouse.http.HopByHop;
import io.gatehouse.http.Reason;
import io.netty.channel.Channel;
import java.util.ArrayDeque;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
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
 * <p>A request body is read into memory up to {@code requestBufferBytes} before an upstream
 * connection is taken ({@link PendingBody}): a small upload that arrives slowly then holds no
 * upstream connection while it trickles in; a larger one streams once that much has arrived.
 *
 * <p>A request that failed on a reused connection before any body byte was sent is replayed on a
 * fresh connection: an upstream closing an idle keep-alive connection is never the client's error.
 * All fields are confined to the client's event loop, so none is volatile.
 *
 * <p>It is one class, past the usual size, on purpose: both legs and the attempts share one state
 * machine (done, response started, request complete, which connection), and splitting it would
 * spread that state over objects that must then agree. Framing ({@link Framing}), replay copies
 * ({@link ReplayBuffer}) and timing ({@link LazyTimer}) live outside it.
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
  private final Framing framing;
  private final long startNanos;
  private final long requestBufferBytes;

  private Channel upstream;
  private UpstreamHandler upstreamHandler;
  private boolean reused;
  private int attempt;
  private boolean awaitingClientContent;
  /** Reading the body before connecting: until it is complete or {@link #requestBufferBytes} are held. */
  private boolean buffering;
  /** The last part of the request was read from the client. */
  private boolean requestRead;
  /** The last part of the request was written upstream. */
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
  private final LazyTimer responseTimer;
  /** Body parts sent on the current reused connection (retained copies). */
  private final ReplayBuffer replayBuffer = new ReplayBuffer(REPLAY_LIMIT);
  /** Body parts read and not yet sent: buffered before connecting, or arrived between two attempts. */
  private final PendingBody pending = new PendingBody();

  /** @param requestBufferBytes body bytes read before an upstream connection is taken; 0 = none */
  public HttpExchange(
      Channel client,
      HttpRequest request,
      UpstreamConnector connector,
      ExchangeListener listener,
      ExchangeSettings settings,
      LazyTimer responseTimer,
      long requestBufferBytes) {
    this.client = client;
    this.requestBufferBytes = requestBufferBytes;
    this.responseTimer = responseTimer;
    this.request = request;
    this.connector = connector;
    this.listener = listener;
    this.settings = settings;
    this.startNanos = settings.clock().getAsLong();
    this.framing = Framing.ofRequest(request);
  }

  /**
   * Starts the first attempt, or first reads the body into memory. A client that expects {@code 100
   * Continue} waits for the upstream's answer before it sends its body (RFC 9110 §10.1.1), so its
   * request goes upstream at once.
   */
  public void start() {
    if (requestBufferBytes > 0 && framing.hasBody() && !HttpUtil.is100ContinueExpected(request)) {
      buffering = true;
      readClient();
      return;
    }
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

  /** Whether the response head went to the client (so a failure can no longer be answered). */
  public boolean responseStarted() {
    return responseStarted;
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
    ArrayDeque<HttpContent> replay = replayBuffer.take();
    if (replay != null && !replay.isEmpty()) { // a replay: head and every body part sent so far
      ch.write(request, ch.voidPromise());
      HttpContent part;
      while ((part = replay.poll()) != null) {
        if (part instanceof LastHttpContent) {
          sendLast((LastHttpContent) part);
        } else {
          ch.write(part, ch.voidPromise());
        }
      }
      if (!requestComplete) {
        ch.flush();
        continueReading();
      }
      return;
    }
    if (requestComplete) { // a replay: the whole request was bodiless or its body empty
      ch.write(request, ch.voidPromise());
      sendLast(LastHttpContent.EMPTY_LAST_CONTENT);
      return;
    }
    if (framing.hasBody() && HttpUtil.is100ContinueExpected(request)) {
      ch.writeAndFlush(request, ch.voidPromise()); // the client waits for 100 Continue before its body
    } else {
      // Flushed with the first body part (or the empty last content of a bodiless request). If
      // that part turns out malformed (a bad chunk size in the same packet as the head), nothing
      // of the request has left the proxy when the exchange fails.
      ch.write(request, ch.voidPromise());
    }
    continueReading();
  }

  /** Goes on with the body: the parts read before this connection, then the next ones. */
  private void continueReading() {
    boolean wrote = false;
    HttpContent next;
    while (upstream != null && !done && (next = pending.poll()) != null) {
      send(next);
      wrote = true;
    }
    if (wrote) {
      afterSend();
    } else {
      readClient(); // the head is flushed with the first part read
    }
  }

  /**
   * Connects again, but not from inside the failed connection's event handling. Closing it freed
   * its file descriptor; a socket opened right away may get the same number, and an epoll event
   * for the old socket still pending in the batch being processed is then delivered to the new one.
   */
  private void connectLater(boolean fresh) {
    client.eventLoop().execute(() -> {
      if (!done) {
        connect(fresh);
      }
    });
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
    if (content instanceof LastHttpContent) {
      requestRead = true;
    }
    if (upstream == null) {
      // Buffered before connecting, or between two attempts (a stale connection being replaced):
      // kept for the next connection, which must not get a request with a hole in its body.
      pending.add(content);
      if (buffering && (requestRead || pending.bytes() >= requestBufferBytes)) {
        buffering = false; // complete, or as much as is kept: from here the body streams
        connect(false);
      } else if (buffering) {
        readClient();
      }
      return;
    }
    send(content);
    afterSend();
  }

  /** Writes a body part upstream; the last one is flushed and starts the response timer. */
  private void send(HttpContent content) {
    if (content.content().isReadable()) {
      bodyForwarded = true;
    }
    keepForReplay(content);
    if (content instanceof LastHttpContent) {
      requestComplete = true;
      sendLast((LastHttpContent) content);
    } else {
      upstream.write(content, upstream.voidPromise());
    }
  }

  /** After body parts were written: flush them and read on while the upstream takes more. */
  private void afterSend() {
    if (upstream == null || done || requestComplete) {
      return;
    }
    upstream.flush();
    if (upstream.isWritable()) {
      readClient();
    }
  }

  private void sendLast(LastHttpContent last) {
    // A failed write closes the channel (autoClose), which reaches onUpstreamClosed.
    upstream.writeAndFlush(last, upstream.voidPromise());
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
    pending.release();
  }

  private void readClient() {
    if (!requestRead && !awaitingClientContent) {
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
    if (response.decoderResult().isFailure() || code < 200 || framing.hasBody() || !requestComplete
        || responseStarted || !connector.mayRetryStatus(attempt, code)) {
      return false;
    }
    ReferenceCountUtil.release(response);
    status = code; // accounted to the endpoint (a 5xx counts towards its ejection)
    detachUpstream(false, Reason.OK);
    status = 0;
    attempt++;
    connectLater(false);
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
      if (code == 101) {
        switchProtocols(response);
        return;
      }
      if (framing.clientHttp10()) { // 1.0 clients know no 1xx
        return;
      }
      client.writeAndFlush(Framing.informational(response), client.voidPromise());
      return;
    }
    cancelResponseTimer();
    responseStarted = true;
    releaseReplay(); // an answer came: this request will not be sent again
    status = code;
    int flags = HopByHop.scan(response.headers());
    upstreamKeepAlive = Framing.upstreamKeepAlive(response, flags);
    clientKeepAlive = framing.prepareResponse(response, flags,
        framing.clientKeepAlive() && requestComplete && !listener.draining(),
        settings.addVia());
    if (settings.responseHeaders() != null) {
      settings.responseHeaders().accept(response.headers());
    }
    client.write(response, client.voidPromise());
  }

  /**
   * The upstream accepted the client's upgrade (101): the response goes to the client, then both
   * connections stop speaking HTTP and become a byte tunnel (the listener installs it). The
   * upstream connection leaves its pool for good.
   */
  private void switchProtocols(HttpResponse response) {
    if (!framing.upgrade() || !requestComplete) {
      ReferenceCountUtil.release(response);
      closeUpstream();
      fail(Reason.UPSTREAM_BAD_RESPONSE, "protocol switch that was not offered");
      return;
    }
    done = true;
    status = 101;
    cancelResponseTimer();
    upstreamNanos = settings.clock().getAsLong() - upstreamStartNanos;
    client.writeAndFlush(Framing.informational(response), client.voidPromise());
    Channel ch = upstream;
    upstream = null;
    upstreamHandler.detach();
    upstreamHandler = null;
    connector.finish(null, false, Reason.OK, 101); // out of the pool; it closes with the tunnel
    listener.exchangeUpgraded(this, ch);
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
    client.write(content, client.voidPromise());
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

  /** Ends the exchange from the client side (e.g. its body stalled): a local reply if still possible. */
  public void abort(Reason reason, String detail) {
    fail(reason, detail);
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
    if (settings.responseTimeoutNanos() > 0) {
      responseTimer.arm(settings.responseTimeoutNanos(), this::onResponseTimeout);
    }
  }

  private void cancelResponseTimer() {
    responseTimer.disarm();
  }

  private void onResponseTimeout() {
    if (!done && !responseStarted && upstream != null && !bodyForwarded && !informational
        && connector.mayRetry(attempt, Reason.UPSTREAM_TIMEOUT)) {
      detachUpstream(false, Reason.UPSTREAM_TIMEOUT); // per-try timeout: the next try gets its own
      attempt++;
      connectLater(false);
      return;
    }
    if (!done && !responseStarted) {
      fail(Reason.UPSTREAM_TIMEOUT, "no response within " + TimeUnit.NANOSECONDS.toMillis(settings.responseTimeoutNanos()) + " ms");
    }
  }

  /** Whether the request has a body (a Content-Length above zero, or chunked). */
  public boolean requestHasBody() {
    return framing.hasBody();
  }

  /** Whether the whole request was read from the client (so the connection can carry another). */
  public boolean requestComplete() {
    return requestRead;
  }

}
