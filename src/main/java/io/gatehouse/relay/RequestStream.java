package io.gatehouse.relay;

import io.gatehouse.http.Reason;
import io.gatehouse.http.RequestChecks;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayDeque;

/**
 * The request's way upstream ({@code clientToProxy -> proxyToUpstream}) for one {@link HttpExchange}:
 * reads the body from the client on demand, checks it (chunk framing, {@code maxBodyBytes}), holds
 * what no try can take yet ({@link PendingBody}: the start of a body buffered before connecting, or
 * parts that arrived between two tries), writes the rest to the exchange's connected try as it
 * arrives, and keeps copies of what went out on a reused connection ({@link ReplayBuffer}) until the
 * response starts. Confined to the client's event loop: plain fields.
 */
final class RequestStream {
  /**
   * Body bytes kept while a request goes out on a reused connection, so that it can be sent again
   * if that connection turns out to have been closed by the upstream. Larger bodies are streamed
   * without a copy and are not replayed.
   */
  static final int REPLAY_LIMIT = 64 * 1024;

  private final HttpExchange exchange;
  private final Downstream client;
  private final HttpRequest request;
  private final Framing framing;
  private final long maxBodyBytes;
  private final long requestBufferBytes;

  private boolean awaitingClientContent;
  /** Reading the body before connecting: until it is complete or {@link #requestBufferBytes} are held. */
  private boolean buffering;
  /** The last part of the request was read from the client. */
  private boolean requestRead;
  /** The last part of the request was written upstream. */
  private boolean requestComplete;
  private boolean bodyForwarded;
  private long bodyBytes;
  /** Body parts sent on the current reused connection (retained copies), for a replay. */
  private final ReplayBuffer replayBuffer = new ReplayBuffer(REPLAY_LIMIT);
  /** Body parts read and not yet sent: buffered before connecting, or arrived between two tries. */
  private final PendingBody pending = new PendingBody();

  RequestStream(HttpExchange exchange, Downstream client, HttpRequest request, Framing framing, long maxBodyBytes,
      long requestBufferBytes) {
    this.exchange = exchange;
    this.client = client;
    this.request = request;
    this.framing = framing;
    this.maxBodyBytes = maxBodyBytes;
    this.requestBufferBytes = requestBufferBytes;
  }

  /**
   * Starts reading the body into memory before any connection is taken, when that applies. A
   * client that expects {@code 100 Continue} waits for the upstream's answer before it sends its
   * body (RFC 9110 §10.1.1), so its request goes upstream at once.
   *
   * @return whether the body is being buffered (the exchange connects once it is)
   */
  boolean bufferFirst() {
    if (requestBufferBytes > 0 && framing.hasBody() && !RequestChecks.expectsContinue(request)) {
      buffering = true;
      readClient();
      return true;
    }
    return false;
  }

  /** A try got its connection: the head goes out, then what the client sent before, then the rest. */
  void writeTo(UpstreamAttempt a) {
    ArrayDeque<HttpContent> replay = replayBuffer.take();
    if (replay != null && !replay.isEmpty()) { // a replay: head and every body part sent so far
      a.writeHead(request, false);
      HttpContent part;
      while ((part = replay.poll()) != null) {
        if (part instanceof LastHttpContent) {
          a.writeLast((LastHttpContent) part);
        } else {
          a.writePart(part);
        }
      }
      if (!requestComplete) {
        a.flush();
        continueReading();
      }
      return;
    }
    if (requestComplete) { // a replay: the whole request was bodiless or its body empty
      a.writeHead(request, false);
      a.writeLast(LastHttpContent.EMPTY_LAST_CONTENT);
      return;
    }
    // With 100-continue the client waits for the upstream's 100 before its body. Otherwise the head
    // is flushed with the first body part (or the empty last content of a bodiless request): if that
    // part turns out malformed (a bad chunk size in the same packet as the head), nothing of the
    // request has left the proxy when the exchange fails.
    a.writeHead(request, framing.hasBody() && RequestChecks.expectsContinue(request));
    continueReading();
  }

  /** A part of the request body from the client. */
  void onClientContent(HttpContent content) {
    awaitingClientContent = false;
    if (exchange.isDone()) {
      content.release();
      return;
    }
    if (content.decoderResult().isFailure()) {
      // Bad chunk size or chunk framing (RFC 9112 §7.1): the body cannot be delimited, so the
      // request must never look complete upstream. Close it there and answer 400 here.
      Throwable cause = content.decoderResult().cause();
      content.release();
      exchange.fail(Reason.MALFORMED, "malformed request body" + (cause == null || cause.getMessage() == null ? ""
          : ": " + cause.getMessage().replaceAll("[^\\x20-\\x7e]", "?")));
      return;
    }
    bodyBytes += content.content().readableBytes();
    if (bodyBytes > maxBodyBytes) {
      content.release();
      exchange.fail(Reason.BODY_TOO_LARGE, "body larger than " + maxBodyBytes + " bytes");
      return;
    }
    if (content instanceof LastHttpContent) {
      requestRead = true;
    }
    if (exchange.sendingTo() == null) {
      // Buffered before connecting, or between two tries (a stale connection being replaced):
      // kept for the next connection, which must not get a request with a hole in its body.
      pending.add(content);
      if (buffering && (requestRead || pending.bytes() >= requestBufferBytes)) {
        buffering = false; // complete, or as much as is kept: from here the body streams
        exchange.connectNow();
      } else if (buffering) {
        readClient();
      }
      return;
    }
    send(content);
    afterSend();
  }

  /** Goes on with the body: the parts read before this connection, then the next ones. */
  private void continueReading() {
    boolean wrote = false;
    HttpContent next;
    while (exchange.sendingTo() != null && !exchange.isDone() && (next = pending.poll()) != null) {
      send(next);
      wrote = true;
    }
    if (wrote) {
      afterSend();
    } else {
      readClient(); // the head is flushed with the first part read
    }
  }

  /** Writes a body part upstream; the last one is flushed and starts the response timer. */
  private void send(HttpContent content) {
    UpstreamAttempt a = exchange.sendingTo();
    if (content.content().isReadable()) {
      bodyForwarded = true;
    }
    if (a.reused() && !exchange.responseStarted()) {
      replayBuffer.add(content); // until the response starts, a stale connection may need a replay
    }
    if (content instanceof LastHttpContent) {
      requestComplete = true;
      a.writeLast((LastHttpContent) content);
    } else {
      a.writePart(content);
    }
  }

  /** After body parts were written: flush them and read on while the upstream takes more. */
  private void afterSend() {
    UpstreamAttempt a = exchange.sendingTo();
    if (a == null || exchange.isDone() || requestComplete) {
      return;
    }
    a.flush();
    if (a.writable()) {
      readClient();
    }
  }

  private void readClient() {
    if (!requestRead && !awaitingClientContent) {
      awaitingClientContent = true;
      client.read();
    }
  }

  /** The connected try's channel became writable or not: the client is read while it is. */
  void onUpstreamWritabilityChanged(UpstreamAttempt a) {
    if (a.writable() && !requestComplete) {
      readClient();
    }
  }

  /** An answer came: this request will not be sent again. */
  void responseStarted() {
    replayBuffer.release();
  }

  /** Lets go of every part held (the exchange is over). */
  void release() {
    replayBuffer.release();
    pending.release();
  }

  /** Whether a body byte went upstream (so a failed try may have been acted on). */
  boolean bodyForwarded() {
    return bodyForwarded;
  }

  /** Whether everything sent on the current reused connection is still held for a replay. */
  boolean replayable() {
    return !bodyForwarded || replayBuffer.complete();
  }

  /** The last part of the request was written upstream. */
  boolean complete() {
    return requestComplete;
  }

  /** The last part of the request was read from the client. */
  boolean read() {
    return requestRead;
  }

  long bodyBytes() {
    return bodyBytes;
  }
}
