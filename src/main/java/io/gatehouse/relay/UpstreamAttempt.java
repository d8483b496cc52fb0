package io.gatehouse.relay;

import io.gatehouse.http.HopByHop;
import io.gatehouse.http.Reason;
import io.gatehouse.http.UpstreamResponse;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * One upstream try of an {@link HttpExchange} (Envoy's {@code UpstreamRequest}): takes a connection
 * from the exchange's {@link UpstreamConnector} (a pool), writes the request head and the body parts
 * the exchange hands it, reads the response head, times the wait for it (the response timeout is
 * per try: the next try gets its own), and releases or closes its connection. What to send, and
 * whether a failed try is made again, are the exchange's decisions ({@link HttpExchange#mayTryAgain}).
 *
 * <p>Confined to the client's event loop, which is also the upstream connection's: plain fields.
 */
final class UpstreamAttempt {
  private final HttpExchange exchange;
  private final UpstreamConnector connector;
  private final Downstream client;
  private final long responseTimeoutNanos;
  /** 0 for the first try; a replay on a fresh connection keeps the number of the try it repeats. */
  private final int index;

  private Channel upstream;
  private UpstreamHandler handler;
  private boolean reused;
  /** A 1xx head was read and its (empty) end not yet. */
  private boolean informational;
  private boolean upstreamKeepAlive;
  /** The upstream is a stream of an HTTP/2 connection. */
  private boolean http2;
  /** The HTTP/2 peer refused the stream unprocessed. */
  private boolean refused;
  /** This try replays one whose connection turned out dead or whose stream was refused. */
  private boolean replay;

  UpstreamAttempt(HttpExchange exchange, UpstreamConnector connector, Downstream client, long responseTimeoutNanos,
      int index) {
    this.exchange = exchange;
    this.connector = connector;
    this.client = client;
    this.responseTimeoutNanos = responseTimeoutNanos;
    this.index = index;
  }

  int index() {
    return index;
  }

  /** Whether the connection came from the pool (so it may have been closed by the upstream while idle). */
  boolean reused() {
    return reused;
  }

  /**
   * Whether a reset of this try means the request was not processed, so it goes again whatever its
   * method: on HTTP/1.1, a reused connection reset before any answer (the upstream closed it while
   * idle; the replay takes a new connection); on an HTTP/2 stream, only the peer's own word (REFUSED_STREAM,
   * or above the last stream id of its GOAWAY, RFC 9113 §8.7), and once.
   */
  boolean mayReplay() {
    return http2 ? refused && !replay : reused; // a replay refused again is not replayed again
  }

  boolean connected() {
    return upstream != null;
  }

  /** Whether a 1xx was read and its end not yet: the upstream has begun to answer. */
  boolean informational() {
    return informational;
  }

  // ---- acquire

  /** Asks the connector for a connection; {@code fresh} forbids a pooled one (a replay). */
  void connect(boolean fresh) {
    replay = fresh;
    connector.connect(index, fresh, new UpstreamConnector.ConnectCallback() {
      @Override
      public void connected(Channel ch, boolean wasReused) {
        onConnected(ch, wasReused);
      }

      @Override
      public void failed(Reason reason, Throwable cause) {
        if (!exchange.isDone()) {
          exchange.attemptFailed(UpstreamAttempt.this, reason, null);
        }
      }
    });
  }

  private void onConnected(Channel ch, boolean wasReused) {
    if (exchange.isDone()) {
      connector.finish(ch, true, Reason.OK, 0); // the client left while we connected
      return;
    }
    upstream = ch;
    reused = wasReused;
    http2 = ch instanceof io.netty.handler.codec.http2.Http2StreamChannel;
    // The upstream handler ends every upstream pipeline (UpstreamPipeline): its last handler, read in
    // one step where a look-up by type walks the pipeline once per request.
    handler = ch.pipeline().last() instanceof UpstreamHandler last ? last : ch.pipeline().get(UpstreamHandler.class);
    handler.attach(this);
    ch.config().setAutoRead(client.isWritable());
    exchange.attemptConnected(this);
  }

  // ---- request: head and body

  /** Writes the request head; {@code flush} when nothing follows at once (100-continue). */
  void writeHead(HttpRequest request, boolean flush) {
    if (flush) {
      upstream.writeAndFlush(request, upstream.voidPromise());
    } else {
      upstream.write(request, upstream.voidPromise());
    }
  }

  void writePart(HttpContent part) {
    upstream.write(part, upstream.voidPromise());
  }

  /** Writes and flushes the request's end, from when the wait for the response head is timed. */
  void writeLast(LastHttpContent last) {
    // A failed write closes the channel (autoClose), which reaches onUpstreamClosed.
    upstream.writeAndFlush(last, upstream.voidPromise());
    if (responseTimeoutNanos > 0 && handler != null) { // null: that write failed and ended this try
      handler.arm(responseTimeoutNanos, this::onResponseTimeout); // the connection times its response
    }
  }

  void flush() {
    upstream.flush();
  }

  boolean writable() {
    return upstream != null && upstream.isWritable();
  }

  /** Reads from the upstream only while the client takes what is written to it. */
  void readWhile(boolean clientWritable) {
    if (upstream != null) {
      upstream.config().setAutoRead(clientWritable);
    }
  }

  // ---- response head (events from UpstreamHandler)

  void onUpstreamRead(Object msg) {
    if (exchange.isDone()) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpResponse) {
      onResponseHead((HttpResponse) msg); // a response read whole goes on whole, its body and end included
      return;
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
      upstream.close();
      exchange.fail(Reason.UPSTREAM_BAD_RESPONSE, "malformed response");
      return;
    }
    if (response instanceof io.gatehouse.http.UpstreamResponse parsed && parsed.codedBeyondChunked()) {
      ReferenceCountUtil.release(response);
      upstream.close(); // its body, coded as the proxy cannot undo, is not read
      exchange.fail(Reason.UPSTREAM_BAD_RESPONSE, "transfer coding other than chunked");
      return;
    }
    if (response.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
      informational = true;
      if (response.status().code() == 101) {
        exchange.onSwitchingProtocols(this, response);
      } else {
        exchange.onInformational(response);
      }
      return;
    }
    if (exchange.retriesStatus(this, response)) {
      return;
    }
    handler.disarm();
    // From the parsed head when there is one: reading the headers would materialize them.
    int flags = response instanceof UpstreamResponse parsed ? parsed.hopByHopFlags() : HopByHop.scan(response.headers());
    upstreamKeepAlive = Framing.upstreamKeepAlive(response, flags);
    exchange.onResponseHead(response, flags);
  }

  private void onResponseContent(HttpContent content) {
    if (informational) {
      content.release(); // the empty end of a 1xx
      if (content instanceof LastHttpContent) {
        informational = false;
      }
      return;
    }
    exchange.onResponseContent(content);
  }

  void onUpstreamReadComplete() {
    exchange.onUpstreamReadComplete();
  }

  void onUpstreamWritabilityChanged() {
    exchange.onUpstreamWritabilityChanged();
  }

  /** The upstream closed or failed; {@code cause} is null for a plain close. */
  void onUpstreamClosed(Throwable cause) {
    refused |= cause instanceof io.gatehouse.http.Http2UpstreamCodec.Unprocessed;
    if (!exchange.isDone() && upstream != null) {
      exchange.attemptFailed(this, Reason.UPSTREAM_RESET, null);
    }
  }

  private void onResponseTimeout() {
    if (!exchange.isDone() && upstream != null) {
      exchange.attemptFailed(this, Reason.UPSTREAM_TIMEOUT,
          "no response within " + TimeUnit.NANOSECONDS.toMillis(responseTimeoutNanos) + " ms");
    }
  }

  // ---- release

  /**
   * Ends this try: its connection goes back to the pool ({@code reusable}: both sides allow
   * keep-alive and the whole request was sent) or is closed, and the connector records the outcome.
   *
   * @param status the upstream's response status, 0 when none
   */
  void end(boolean reusable, Reason failure, int status) {
    Channel ch = upstream;
    upstream = null;
    if (handler != null) {
      handler.disarm(); // the timer times one try
      handler.detach();
      handler = null;
    }
    if (!reusable) {
      ch.close();
    }
    connector.finish(ch, reusable, failure, status);
  }

  /** Ends this try after a complete response: its connection is reused if both sides allow. */
  void release(boolean requestComplete) {
    end(upstreamKeepAlive && requestComplete, Reason.OK, exchange.status());
  }

  /**
   * The connection leaves its pool for good and is handed over, still with its HTTP codec: the
   * upstream switched protocols (101) and it becomes one side of a byte tunnel, or a successor
   * process carries on its response ({@code status}).
   */
  Channel handOver(int status) {
    handler.disarm();
    Channel ch = upstream;
    upstream = null;
    handler.detach();
    handler = null;
    connector.finish(null, false, Reason.OK, status); // out of the pool; it closes with the tunnel
    return ch;
  }

  /** The connection of this try, while it has one. */
  Channel channel() {
    return upstream;
  }
}
