package io.gatehouse.relay;

import io.gatehouse.http.ClientAddress;
import io.gatehouse.http.ClientRequest;
import io.gatehouse.http.ClientTimeouts;
import io.gatehouse.http.Http2StreamCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.handler.codec.http2.Http2WindowUpdateFrame;
import io.netty.util.ReferenceCountUtil;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An HTTP/2 stream as the client side of its one exchange, without a channel of its own: its
 * connection's stream table ({@code listener.Http2StreamTable}) hands it the stream's frames, it
 * delivers them as HTTP/1 messages to its reader one per {@link #read()}, and writes the response as
 * frames on the connection, with the stream set. It ends with its response and the client's
 * END_STREAM (RFC 9113 §8.1), or with a reset; its connection stays.
 *
 * <ul>
 *   <li>in: the request HEADERS become the request head ({@link Http2StreamCodec#request}); DATA
 *       become contents, END_STREAM the last one, trailers the last one's fields. A request that
 *       cannot be converted is malformed (§8.1.1): the stream is reset with PROTOCOL_ERROR and
 *       nothing reaches the reader.
 *   <li>flow control: frames wait here until asked for; a DATA frame's bytes go back to the client's
 *       window when it is delivered, so the window follows what the reader takes (the upstream).
 *   <li>out: responses as HEADERS and DATA ({@link Http2StreamCodec#encode}); the side is writable
 *       while its connection is and nothing of it waits for the client's window.
 *   <li>a CONNECT (§8.5): the DATA after its HEADERS are a tunnel's bytes, HEADERS after them a
 *       stream error; once connected, a {@link Http2StreamTunnel} reads the side in the proxy
 *       handler's place ({@link #readBy}).
 * </ul>
 *
 * One per stream, on its connection's event loop: plain fields.
 */
public final class Http2StreamSide extends Downstream implements Http2StreamCodec.FrameSink {
  private static final Logger log = LoggerFactory.getLogger(Http2StreamSide.class);

  private final ChannelHandlerContext ctx;
  private final Http2FrameStream stream;
  private final Http2Connection connection;
  /** The codec's stream, looked up once (the side asks its flow control at every flush). */
  private final Http2Stream codecStream;
  /** Converted messages not yet asked for, each followed by the flow-controlled bytes to give back when delivered. */
  private final ArrayDeque<Object> queue = new ArrayDeque<>(2);
  /** The reader asked for a message that has not come yet. */
  private boolean demand;
  /** A delivery is under way: a read asked from inside it is served by its loop, not recursively. */
  private boolean delivering;
  private boolean closed;
  /** The request is a CONNECT: what follows its HEADERS is a tunnel's bytes (§8.5). */
  private boolean connect;
  /** The stream's send window given by the client's WINDOW_UPDATEs so far (see {@link #taken}). */
  private long granted;
  /** What {@link #taken} said last (it stays once the stream is gone). */
  private long takenSoFar;
  /** The writability the timeouts were last told of (a stream opened with a zero window starts unwritable, no event says so). */
  private boolean reportedWritable = true;
  private DownstreamReader reader;
  /** The stream's client timeouts, until a tunnel takes the side over (its idle timeout is its own); then null. */
  private ClientTimeouts timeouts;

  public Http2StreamSide(ChannelHandlerContext ctx, Http2FrameStream stream, Http2Connection connection,
      ClientTimeouts timeouts, DownstreamHandler handler) {
    super(null, null, timeouts, handler.stages());
    this.ctx = ctx;
    this.stream = stream;
    this.connection = connection;
    this.codecStream = connection.stream(stream.id()); // the HEADERS that open the side opened it
    this.reader = handler;
    this.timeouts = timeouts;
    timeouts.attachStream(ctx.executor(), () -> !closed, evt -> reader.onEvent(evt), this::taken);
  }

  /** From now on {@code next} reads this side (a tunnel after a CONNECT); the client timeouts stop. */
  void readBy(DownstreamReader next) {
    reader = next;
    if (timeouts != null) {
      timeouts.closed();
      timeouts = null;
    }
  }

  /** The stream's id, for logs. */
  public int streamId() {
    return stream.id();
  }

  // ---- from the stream table

  /** A frame of this stream from the connection: HEADERS or DATA (a reset ends it through {@link #onStreamClosed}). */
  public void onFrame(Http2StreamFrame frame) {
    if (closed) {
      ReferenceCountUtil.release(frame);
    } else if (frame instanceof Http2HeadersFrame headers) {
      onHeaders(headers);
    } else if (frame instanceof Http2DataFrame data) {
      offer(data.isEndStream() ? new DefaultLastHttpContent(data.content()) : new DefaultHttpContent(data.content()),
          data.initialFlowControlledBytes());
    } else if (frame instanceof Http2WindowUpdateFrame update) {
      granted += update.windowSizeIncrement(); // the frame codec applied it to the window already
    } else {
      ReferenceCountUtil.release(frame);
    }
  }

  private void onHeaders(Http2HeadersFrame frame) {
    if (frame.headers().method() == null) {
      // A second HEADERS: trailers, which the frame codec lets through only with END_STREAM and
      // without pseudo-headers (§8.1); none on a CONNECT's stream (§8.5).
      if (connect) {
        refuse("HEADERS on a CONNECT stream");
        return;
      }
      LastHttpContent trailers;
      try {
        trailers = Http2StreamCodec.trailers(frame.headers());
      } catch (RuntimeException e) {
        refuse(e.toString());
        return;
      }
      offer(trailers, 0);
      return;
    }
    ClientRequest request;
    try {
      request = Http2StreamCodec.request(frame.headers(), frame.isEndStream());
    } catch (RuntimeException e) {
      refuse(e.toString());
      return;
    }
    // RFC 9113 §8.5: every DATA frame after a CONNECT's HEADERS is the tunnel's, from the first.
    // (One that declares content, which a CONNECT has not, RFC 9110 §9.3.6, stays a request: 400.)
    connect = HttpMethod.CONNECT.equals(request.method()) && request.head().contentLength() <= 0;
    offer(request, 0);
    if (frame.isEndStream()) {
      offer(LastHttpContent.EMPTY_LAST_CONTENT, 0);
    }
  }

  /** A malformed request (§8.1.1): the stream is reset, nothing more reaches the reader. */
  private void refuse(String why) {
    log.debug("{} stream {}: malformed request: {}", ctx.channel(), stream.id(), why);
    reset(Http2Error.PROTOCOL_ERROR);
  }

  private void offer(Object message, int flowControlled) {
    queue.add(message);
    queue.add(flowControlled);
    if (demand && !delivering) {
      deliverAsked();
    }
  }

  /**
   * Delivers queued messages while the reader asks for them, in a loop: a reader that asks for the
   * next from inside {@link DownstreamReader#onMessage} (a tunnel relaying small frames) does not
   * recurse once per frame.
   */
  private void deliverAsked() {
    delivering = true;
    boolean windowGiven = false;
    try {
      while (demand && !closed && !queue.isEmpty()) {
        demand = false;
        Object message = queue.poll();
        int flowControlled = (Integer) queue.poll();
        if (flowControlled > 0) {
          // The bytes go back to the client's window as the reader takes them: the stream's flow
          // control follows the upstream.
          ctx.write(new DefaultHttp2WindowUpdateFrame(flowControlled).stream(stream), ctx.voidPromise());
          windowGiven = true;
        }
        if (timeouts != null) {
          timeouts.received(message);
        }
        reader.onMessage(message);
      }
    } finally {
      delivering = false;
    }
    if (windowGiven) {
      // The reader may ask from the upstream's side of the loop (its socket took more), outside a
      // read of this connection, whose end would flush: a client waiting for its window sends
      // nothing that would. The connection's h2-flush holds this to the end of the loop's turn.
      ctx.flush();
    }
    if (demand && timeouts != null && !closed) {
      timeouts.readAsked();
    }
  }

  /** The stream closed (both ends sent END_STREAM, or a reset either way, or its connection closed). */
  public void onStreamClosed() {
    if (closed) {
      return;
    }
    closed = true;
    if (timeouts != null) {
      timeouts.closed();
    }
    for (Object o; (o = queue.poll()) != null; ) {
      ReferenceCountUtil.release(o);
    }
    reader.onClosed();
  }

  /**
   * The DATA bytes of the response the client has taken so far, i.e. that its flow-control window
   * let out to the connection (RFC 9113 §5.2): the window the stream opened with, plus what the
   * client's WINDOW_UPDATEs added, minus what is left of it. A change of the initial window size by
   * SETTINGS moves the stream's window and the initial size alike (§6.9.2), so it cancels out. Asked
   * by the minimum read rate (instead of a listener on every write's promise).
   */
  private long taken() {
    if (open()) {
      var flow = connection.remote().flowController();
      takenSoFar = Math.max(takenSoFar, flow.initialWindowSize() + granted - flow.windowSize(codecStream));
    }
    return takenSoFar;
  }

  /** Whether the codec's stream is still open (the side learns of its close a moment later). */
  private boolean open() {
    return codecStream != null && codecStream.state() != Http2Stream.State.CLOSED;
  }

  /** The connection's or the stream's writability changed. */
  public void onWritabilityChanged() {
    if (!closed) {
      reportWritability();
      reader.onWritabilityChanged();
    }
  }

  /** An event for every stream of the connection (the drain's deadline). */
  public void onEvent(Object evt) {
    if (!closed && !reader.onEvent(evt)) {
      ReferenceCountUtil.release(evt);
    }
  }

  private void reportWritability() {
    boolean writable = isWritable();
    if (writable != reportedWritable && timeouts != null) {
      reportedWritable = writable;
      timeouts.writabilityChanged(writable);
    }
  }

  /** Resets the stream (when still open) with {@code error}; the side is closed at once. */
  void reset(Http2Error error) {
    if (closed) {
      return;
    }
    if (open()) {
      ctx.writeAndFlush(new DefaultHttp2ResetFrame(error).stream(stream), ctx.voidPromise());
    }
    onStreamClosed();
  }

  /**
   * END_STREAM once what is queued for the stream left (its window let it out), then a reset if the
   * client has not ended its side by then: a tunnel whose upstream closed.
   */
  void endThenClose() {
    if (closed) {
      return;
    }
    ChannelPromise sent = ctx.newPromise();
    sent.addListener(f -> close());
    ctx.writeAndFlush(new DefaultHttp2DataFrame(true).stream(stream), sent);
  }

  /** A tunnel's bytes as a DATA frame; {@code endStream} ends the stream's output (§8.5: the half-close). */
  void writeData(ByteBuf bytes, boolean endStream) {
    if (closed) {
      bytes.release();
      return;
    }
    write(new DefaultHttp2DataFrame(bytes, endStream), ctx.voidPromise());
  }

  // ---- Downstream

  @Override
  public boolean http2() {
    return true;
  }

  @Override
  public EventLoop eventLoop() {
    return ctx.channel().eventLoop();
  }

  @Override
  public ByteBufAllocator alloc() {
    return ctx.alloc();
  }

  /** The connection's client. */
  @Override
  public ClientAddress clientAddress() {
    return ClientAddress.ofConnection(ctx.channel());
  }

  @Override
  public SocketAddress localAddress() {
    return ctx.channel().localAddress();
  }

  /** None: a stream has no channel of its own (a tunnel reads it through {@link #readBy}). */
  @Override
  public Channel channel() {
    return null;
  }

  @Override
  public boolean isActive() {
    return !closed;
  }

  @Override
  public boolean isOpen() {
    return !closed;
  }

  @Override
  public boolean isWritable() {
    if (closed || !ctx.channel().isWritable()) {
      return false;
    }
    // Writable while nothing waits for the client's window: the response head and one read's worth
    // of body go out (or queue) at once, then the upstream waits for the window.
    if (!open()) {
      return false;
    }
    var flow = connection.remote().flowController();
    return flow.isWritable(codecStream) || !flow.hasFlowControlled(codecStream);
  }

  @Override
  public void read() {
    demand = true;
    if (!delivering) {
      deliverAsked();
    }
  }

  @Override
  public void write(Object message) {
    if (closed) {
      ReferenceCountUtil.release(message);
      return;
    }
    Http2StreamCodec.encode(message, ctx.voidPromise(), this);
  }

  @Override
  public void writeAndFlush(Object message) {
    write(message);
    flush();
  }

  @Override
  void writeReply(Object reply) {
    writeAndFlush(reply);
  }

  @Override
  public void flush() {
    ctx.flush();
    if (!closed) {
      reportWritability();
    }
  }

  /** Resets the stream if still open (RST_STREAM CANCEL): what is not sent yet is lost. */
  @Override
  public void close() {
    reset(Http2Error.CANCEL);
  }

  /** Nothing: the stream's frames wait here until asked for, whatever the reads. */
  @Override
  void prefetch() {}

  // ---- FrameSink

  @Override
  public void write(Http2StreamFrame frame, ChannelPromise promise) {
    ctx.write(frame.stream(stream), promise);
  }

  @Override
  public ChannelPromise voidPromise() {
    return ctx.voidPromise();
  }

  // ---- endings

  /** Nothing: a stream's end of input is its request's END_STREAM, which ends the request. */
  @Override
  void onInputEnded() {}

  /** Nothing: a stream cut is reset by its own close, and its connection stays. */
  @Override
  void resetOnClose() {}

  /** The stream ends with the response's END_STREAM: the flush is all. */
  @Override
  void afterFlush() {
    flush();
  }

  /**
   * What the client still sends on the stream is read and dropped (the proxy handler reads on,
   * {@link #lingerOn}), giving its window back, until its END_STREAM closes the stream. A client that
   * keeps its stream open past the linger time, once the response is out, gets it reset
   * (RST_STREAM CANCEL), as a socket gets closed.
   */
  @Override
  void linger() {
    lingering = true;
    flush();
    read();
    eventLoop().schedule(this::endLingeringStream, LINGER_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** A dropped DATA frame was delivered: ask for the next one, which gives its bytes back to the window. */
  @Override
  void lingerOn() {
    read();
  }

  /**
   * Resets a lingering stream once its response is out: the stream's END_STREAM has left the
   * flow-control queue (half-closed local, RFC 9113 §5.1). A response still waiting for the client's
   * window is not cut by this (a reset would drop it); the stream's timeouts bound that wait.
   */
  private void endLingeringStream() {
    if (closed) {
      return;
    }
    Http2Stream.State now = codecStream == null ? Http2Stream.State.CLOSED : codecStream.state();
    if (now == Http2Stream.State.OPEN || now == Http2Stream.State.HALF_CLOSED_REMOTE) {
      eventLoop().schedule(this::endLingeringStream, LINGER_MILLIS, TimeUnit.MILLISECONDS);
      return;
    }
    close();
  }
}
