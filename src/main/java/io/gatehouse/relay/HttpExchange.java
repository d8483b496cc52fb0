package io.gatehouse.relay;

import io.gatehouse.http.Reason;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

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
 * connection is taken ({@link RequestStream}): a small upload that arrives slowly then holds no
 * upstream connection while it trickles in; a larger one streams once that much has arrived.
 *
 * <p>The exchange owns the client side: the request read from the client (its {@link RequestStream}),
 * the response written to it, the figures of its access-log record. Each upstream try is an {@link UpstreamAttempt}
 * (connection, head and body written, response head read, its own response timer); when one fails,
 * {@link #mayTryAgain} alone decides what follows: a replay on a fresh connection (a reused one that
 * the upstream had closed while idle is never the client's error), a retry the route allows, or a
 * local reply. All fields are confined to the client's event loop, so none is volatile.
 */
public final class HttpExchange {
  private final Downstream client;
  private final HttpRequest request;
  private final UpstreamConnector connector;
  private final ExchangeListener listener;
  private final ExchangeSettings settings;
  private final Framing framing;
  private final RequestStream requestStream;

  /** The try in progress (connecting or connected); null between two tries and once done. */
  private UpstreamAttempt attempt;
  /** Number of the next retry's try (0 = the first); a replay does not count. */
  private int tries;
  private boolean responseStarted;
  private boolean clientKeepAlive;
  private boolean done;
  private int status;
  private long responseBodyBytes;
  private long upstreamStartNanos;
  private long upstreamNanos;
  private Reason outcome = Reason.OK;

  /** What follows a failed try. */
  enum Next { REPLAY, RETRY, GIVE_UP }

  /** @param requestBufferBytes body bytes read before an upstream connection is taken; 0 = none */
  public HttpExchange(
      Downstream client,
      HttpRequest request,
      UpstreamConnector connector,
      ExchangeListener listener,
      ExchangeSettings settings,
      long requestBufferBytes) {
    this.client = client;
    this.request = request;
    this.connector = connector;
    this.listener = listener;
    this.settings = settings;
    this.framing = Framing.ofRequest(request);
    this.requestStream = new RequestStream(this, client, request, framing, settings.maxBodyBytes(), requestBufferBytes);
  }

  /** Starts the first try, or first reads the body into memory ({@link RequestStream#bufferFirst}). */
  public void start() {
    if (!requestStream.bufferFirst()) {
      connect(false);
    }
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
    return requestStream.bodyBytes();
  }

  public long responseBodyBytes() {
    return responseBodyBytes;
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

  /** Whether the request has a body (a Content-Length above zero, or chunked). */
  public boolean requestHasBody() {
    return framing.hasBody();
  }

  /** Whether the whole request was read from the client (so the connection can carry another). */
  public boolean requestComplete() {
    return requestStream.read();
  }

  // ---- tries

  private void connect(boolean fresh) {
    if (upstreamStartNanos == 0) {
      upstreamStartNanos = settings.clock().getAsLong();
    }
    attempt = new UpstreamAttempt(this, connector, client, settings.responseTimeoutNanos(), tries);
    attempt.connect(fresh);
  }

  /** The buffered start of the body is complete, or as large as is kept: the first try starts. */
  void connectNow() {
    connect(false);
  }

  /**
   * Connects again, but not from inside the failed connection's event handling. Closing it freed
   * its file descriptor; a socket opened right away may get the same number, and an epoll event
   * for the old socket still pending in the batch being processed is then delivered to the new one.
   */
  private void connectLater(boolean fresh) {
    attempt = null;
    client.eventLoop().execute(() -> {
      if (!done) {
        connect(fresh);
      }
    });
  }

  /** The try that body parts are written to: the current one once connected, else null. */
  UpstreamAttempt sendingTo() {
    return attempt != null && attempt.connected() ? attempt : null;
  }

  void attemptConnected(UpstreamAttempt a) {
    requestStream.writeTo(a);
  }

  /**
   * The one retry decision, for every way a try fails before the response started: a reset on a
   * reused connection before anything was answered is a stale keep-alive connection, replayed on a
   * fresh one (body parts included, from the replay buffer; no retry budget used); otherwise the
   * connector's policy (the route's retry conditions and attempts, the cluster's retry budget)
   * decides, for a request that can be sent again: no body byte forwarded and no 1xx seen, or, on
   * a retried status, a bodiless request sent whole.
   *
   * @param status the final status the try was answered with, or 0 for a failure
   */
  Next mayTryAgain(UpstreamAttempt failed, Reason failure, int status) {
    if (responseStarted) {
      return Next.GIVE_UP;
    }
    if (failure == Reason.UPSTREAM_RESET && failed.mayReplay() && requestStream.replayable()) {
      return Next.REPLAY;
    }
    if (status != 0) {
      return !framing.hasBody() && requestStream.complete() && connector.mayRetryStatus(failed.index(), status)
          ? Next.RETRY : Next.GIVE_UP;
    }
    // A try that never got a connection sent nothing: whatever an earlier try sent is still held.
    boolean resendable = !failed.connected() || (!requestStream.bodyForwarded() && !failed.informational());
    return resendable && connector.mayRetry(failed.index(), failure) ? Next.RETRY : Next.GIVE_UP;
  }

  /** A try failed: could not connect, was reset, or timed out waiting for the response head. */
  void attemptFailed(UpstreamAttempt failed, Reason failure, String detail) {
    if (failure == Reason.UPSTREAM_TIMEOUT && responseStarted) {
      return; // a late timer: the head came
    }
    switch (mayTryAgain(failed, failure, 0)) {
      case REPLAY:
        failed.end(false, Reason.OK, 0);
        connectLater(true);
        return;
      case RETRY:
        if (failed.connected()) {
          failed.end(false, failure, 0); // a reset or a timeout counts against the endpoint
        }
        tries++;
        connectLater(false);
        return;
      default:
        fail(failure, detail);
    }
  }

  /**
   * A final status the route retries on: drop this response and its connection, and try another
   * endpoint. The status is accounted to the endpoint (a 5xx counts towards its ejection).
   */
  boolean retriesStatus(UpstreamAttempt a, HttpResponse response) {
    int code = response.status().code();
    if (mayTryAgain(a, Reason.OK, code) != Next.RETRY) {
      return false;
    }
    ReferenceCountUtil.release(response);
    a.end(false, Reason.OK, code);
    tries++;
    connectLater(false);
    return true;
  }

  // ---- client -> upstream

  /** A part of the request body from the client. */
  public void onClientContent(HttpContent content) {
    requestStream.onClientContent(content);
  }

  void onUpstreamWritabilityChanged() {
    UpstreamAttempt a = sendingTo();
    if (a != null) {
      requestStream.onUpstreamWritabilityChanged(a);
    }
  }

  // ---- upstream -> client

  /** A 1xx other than 101: passed on, except to an HTTP/1.0 client, which knows none. */
  void onInformational(HttpResponse response) {
    if (!framing.clientHttp10()) {
      client.writeAndFlush(Framing.informational(response));
    }
  }

  void onResponseHead(HttpResponse response, int flags) {
    responseStarted = true;
    requestStream.responseStarted();
    status = response.status().code();
    clientKeepAlive = framing.prepareResponse(response, flags,
        framing.clientKeepAlive() && requestStream.complete() && !listener.draining(),
        settings.addVia());
    if (settings.responseHeaders() != null) {
      settings.responseHeaders().accept(response.headers());
    }
    if (response instanceof LastHttpContent whole) {
      // Read whole (http.UpstreamFullResponse): the head, its body and its end in one write.
      responseBodyBytes += whole.content().readableBytes();
      client.write(response);
      complete();
      return;
    }
    client.write(response);
  }

  /**
   * The upstream accepted the client's upgrade (101): the response goes to the client, then both
   * connections stop speaking HTTP and become a byte tunnel (the listener installs it). The
   * upstream connection leaves its pool for good.
   */
  void onSwitchingProtocols(UpstreamAttempt a, HttpResponse response) {
    if (!framing.upgrade() || !requestStream.complete()) {
      ReferenceCountUtil.release(response);
      fail(Reason.UPSTREAM_BAD_RESPONSE, "protocol switch that was not offered");
      return;
    }
    done = true;
    status = 101;
    upstreamNanos = settings.clock().getAsLong() - upstreamStartNanos;
    client.writeAndFlush(Framing.informational(response));
    attempt = null;
    listener.exchangeUpgraded(this, a.handOver(101));
  }

  void onResponseContent(HttpContent content) {
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
    if (!client.isWritable() && attempt != null) {
      attempt.readWhile(false);
    }
  }

  /** The client's channel became writable or not: the upstream reads only while it is. */
  public void onClientWritabilityChanged() {
    if (attempt != null && !done) {
      attempt.readWhile(client.isWritable());
    }
  }

  // ---- a hand-off moves the response in flight

  /**
   * The upstream connection of a response in flight that a hand-off could move: its head went to
   * the client, the whole request went upstream, and it still streams; else null.
   */
  Channel respondingUpstream() {
    return responseStarted && !done && attempt != null && requestStream.complete() ? attempt.channel() : null;
  }

  boolean clientKeepAlive() {
    return clientKeepAlive;
  }

  /** Time from the first upstream connection attempt to now. */
  long upstreamNanosSoFar() {
    return settings.clock().getAsLong() - upstreamStartNanos;
  }

  /**
   * A successor process carries on the response (it holds both sockets): this process forgets the
   * exchange without an end of its own, and releases its upstream try (its connection leaves the
   * pool; the caller closes this process's copies of both sockets).
   */
  void movedAway() {
    done = true;
    requestStream.release();
    UpstreamAttempt a = attempt;
    attempt = null;
    a.handOver(status);
  }

  // ---- endings

  private void complete() {
    done = true;
    requestStream.release();
    upstreamNanos = settings.clock().getAsLong() - upstreamStartNanos;
    UpstreamAttempt a = attempt;
    attempt = null;
    a.release(requestStream.complete());
    // Recorded (metrics, access log) before the end of the response is flushed, so that whoever
    // has seen the response also finds it counted.
    listener.exchangeDone(this, clientKeepAlive);
    client.flush();
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
    endUpstream(Reason.CLIENT_ABORTED);
    listener.exchangeDone(this, false);
  }

  void fail(Reason reason, String detail) {
    if (done) {
      return;
    }
    done = true;
    outcome = reason;
    upstreamNanos = settings.clock().getAsLong() - upstreamStartNanos;
    endUpstream(reason);
    if (responseStarted) {
      client.close(); // mid-body: the only honest signal left is an abrupt end
      listener.exchangeDone(this, false);
    } else {
      status = reason.status() == null ? 0 : reason.status().code();
      listener.replyLocally(this, reason, detail);
    }
  }

  /** Lets go of everything held for the upstream side: copies, the try's connection (closed). */
  private void endUpstream(Reason reason) {
    requestStream.release();
    UpstreamAttempt a = attempt;
    attempt = null;
    if (a != null && a.connected()) {
      a.end(false, reason, status);
    } else {
      connector.finish(null, false, reason, 0); // a connect still pending releases its connection itself
    }
  }
}
