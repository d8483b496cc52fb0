package io.gatehouse.relay;

import io.gatehouse.http.BodyPosition;
import io.gatehouse.http.Reason;
import io.gatehouse.http.ResponseBodyTail;
import io.gatehouse.http.UpstreamCodec;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The rest of a response a predecessor process moved here in flight ({@link ResponseHandover}):
 * reads the upstream's body on from where the predecessor stopped ({@link UpstreamCodec#resuming}),
 * writes it to the client framed as its head announced ({@link ResponseBodyTail}), reading the
 * upstream only while the client takes what is written (its writability, as {@link HttpExchange}
 * does), and writes the response's one access-log record, carried on from the predecessor's
 * figures. After the last byte the upstream connection closes, and the client connection, if it
 * stays open, becomes an ordinary HTTP/1 connection of its listener ({@code serveNext}); if not, it
 * closes once the response is out. An upstream that ends the body early cuts the client connection
 * (as here), a client that leaves ends the upstream one, and a client that takes nothing for the
 * listener's idle timeout is cut. Confined to the event loop both channels are registered with.
 */
public final class ResumedResponse implements ResponseMove {
  private static final String CLIENT = "resumed-response";
  private static final String CLIENT_BODY = "resumed-response-body";

  private final Channel client;
  private final Channel upstream;
  private final ExchangeRecord record;
  private final boolean keepAlive;
  private final boolean clientChunked;
  private final long idleNanos;
  private final LongSupplier clock;
  private final ExchangeObserver observer;
  private final Runnable serveNext;
  private final long startNanos;
  private long bytesOut;
  private boolean finished;
  private ScheduledFuture<?> stallTimer;
  /** Frozen for a move to the next successor (or on its way): the upstream is not read. */
  private boolean frozen;
  /** The drain's deadline came: a close now is the proxy's, not the client's. */
  private boolean atDeadline;
  /** When a drain handed the connection over ({@code System.nanoTime()}), 0 when none did (any thread reads it). */
  private volatile long handingOverSince;
  /** What the client sent before the response ended, for the HTTP/1 handlers that follow it. */
  private final java.util.ArrayDeque<Object> early = new java.util.ArrayDeque<>();

  /** The predecessor's bytes for the client not yet written when it moved; null once written (or none). */
  private byte[] unsent;

  private ResumedResponse(Channel client, Channel upstream, ResponseHandover.Frozen frozen, LongSupplier clock,
      ExchangeObserver observer, Runnable serveNext) {
    this.client = client;
    this.upstream = upstream;
    this.record = frozen.record();
    this.keepAlive = frozen.keepAlive();
    this.clientChunked = frozen.clientChunked();
    this.idleNanos = frozen.idleNanos();
    this.unsent = frozen.unsent();
    this.clock = clock;
    this.observer = observer;
    this.serveNext = serveNext;
    this.startNanos = clock.getAsLong();
  }

  /**
   * Builds both pipelines; call before the channels join their (common) event loop, then
   * {@link #start} on it.
   *
   * @param maxTrailerBytes the largest trailer section accepted at the body's end
   * @param serveNext makes the client connection an HTTP/1 connection of its listener (its handlers
   *     added), after the response, on the event loop
   */
  public static ResumedResponse prepare(Channel client, Channel upstream, ResponseHandover.Frozen frozen,
      int maxTrailerBytes, LongSupplier clock, ExchangeObserver observer, Runnable serveNext) {
    ResumedResponse response = new ResumedResponse(client, upstream, frozen, clock, observer, serveNext);
    // As on an HTTP/1 connection (ClientPipeline): a client's FIN after its last request ends its
    // input, not the connection, so the response still goes out.
    client.config().setOption(io.netty.channel.ChannelOption.ALLOW_HALF_CLOSURE, true);
    client.pipeline().addLast(CLIENT_BODY, new ResponseBodyTail(frozen.clientChunked()));
    client.pipeline().addLast(CLIENT, response.new ClientSide());
    upstream.pipeline().addLast(UpstreamCodec.resuming(frozen.upstreamBody(), maxTrailerBytes));
    upstream.pipeline().addLast(response.new UpstreamSide());
    return response;
  }

  /**
   * Both channels are registered: what the predecessor had not written to the client goes first (as
   * it was framed; already counted in the record), then the upstream is read while the client takes
   * what it is sent.
   */
  public void start() {
    if (unsent != null) {
      // Written below this response's own handlers: the bytes are framed already.
      client.pipeline().firstContext().writeAndFlush(io.netty.buffer.Unpooled.wrappedBuffer(unsent), client.voidPromise());
      unsent = null;
    }
    upstream.config().setAutoRead(client.isWritable());
    if (!client.isWritable()) {
      armStallTimer();
    }
  }

  private void onUpstreamContent(HttpContent part) {
    if (finished) {
      part.release();
      return;
    }
    boolean last = part instanceof LastHttpContent;
    bytesOut += part.content().readableBytes();
    client.write(part, client.voidPromise());
    if (last) {
      finish(Reason.OK);
    }
  }

  private void finish(Reason outcome) {
    if (finished) {
      return;
    }
    finished = true;
    cancelStallTimer();
    long now = clock.getAsLong();
    observer.exchangeFinished(record.continued(bytesOut, now - startNanos, outcome));
    upstream.close();
    if (outcome != Reason.OK || !keepAlive) {
      early.forEach(ReferenceCountUtil::release);
      early.clear();
    }
    if (outcome != Reason.OK) {
      client.close(); // mid-body: the only honest signal left is an abrupt end
      return;
    }
    if (!keepAlive) {
      client.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    client.flush();
    client.pipeline().remove(CLIENT);
    client.pipeline().remove(CLIENT_BODY);
    serveNext.run();
    Object msg;
    while ((msg = early.poll()) != null) {
      if (msg instanceof io.netty.channel.socket.ChannelInputShutdownEvent || msg instanceof DrainSignal) {
        client.pipeline().fireUserEventTriggered(msg);
      } else {
        client.pipeline().fireChannelRead(msg);
      }
    }
    client.pipeline().fireChannelReadComplete();
  }

  /**
   * A drain reached the connection while its response streams: at a hand-off to a successor that
   * takes connections, from its slot on the response may move on ({@link ResponseMove#due}); the
   * signal itself also waits for the HTTP/1 handlers that follow the response.
   */
  private void onDrain(DrainSignal drain) {
    if (drain == DrainSignal.DEADLINE) {
      atDeadline = true;
    } else if (drain.handsOver()) {
      client.eventLoop().schedule(() -> {
        handingOverSince = System.nanoTime() | 1;
      }, drain.slotNanos(), TimeUnit.NANOSECONDS);
    }
  }

  /** The resumed response on {@code ch}, while it streams; else null. Any thread. */
  static ResumedResponse of(Channel ch) {
    return ch.pipeline().get(CLIENT) instanceof ClientSide side ? side.response() : null;
  }

  long handingOverSince() {
    return handingOverSince;
  }

  @Override
  public Channel client() {
    return client;
  }

  @Override
  public Channel upstream() {
    return upstream;
  }

  /** As a {@link ResponseHandover}'s: it moves on at the next restart, from where it stands then. */
  @Override
  public Future<ResponseHandover.Frozen> freeze() {
    Promise<ResponseHandover.Frozen> done = client.eventLoop().newPromise();
    client.eventLoop().execute(() -> {
      if (finished || frozen || early.stream().anyMatch(m -> !(m instanceof DrainSignal))) {
        done.setSuccess(null); // (what the client sent meanwhile is in this process)
        return;
      }
      frozen = true;
      cancelStallTimer();
      ResponseFreeze.freeze(client, upstream, () -> !finished && early.stream().allMatch(m -> m instanceof DrainSignal),
          () -> bytesOut, this::describe, this::thaw, done);
    });
    return done;
  }

  private ResponseHandover.Frozen describe(BodyPosition at, byte[] unsent) {
    io.gatehouse.http.ClientAddress address = io.gatehouse.http.ClientAddress.of(client);
    return new ResponseHandover.Frozen(record.continued(bytesOut, clock.getAsLong() - startNanos, Reason.OK),
        record.listener(), address.fromProxyHeader() ? address : null, keepAlive, clientChunked, at, idleNanos, unsent);
  }

  @Override
  public void thaw() {
    client.eventLoop().execute(() -> {
      if (frozen) {
        ResponseFreeze.thaw(client, upstream, () -> {
          frozen = false;
          if (!finished && client.isRegistered()) {
            start();
          }
        });
      }
    });
  }

  @Override
  public Future<?> movedAway() {
    Promise<Void> closed = client.eventLoop().newPromise();
    client.eventLoop().execute(() -> {
      finished = true; // its record is the next successor's to write
      cancelStallTimer();
      early.forEach(ReferenceCountUtil::release);
      early.clear();
      ResponseFreeze.close(client, upstream, closed);
    });
    return closed;
  }

  private void cancelStallTimer() {
    if (stallTimer != null) {
      stallTimer.cancel(false);
      stallTimer = null;
    }
  }

  private void armStallTimer() {
    if (idleNanos <= 0 || stallTimer != null) {
      return;
    }
    stallTimer = client.eventLoop().schedule(() -> {
      stallTimer = null;
      if (!finished && !client.isWritable()) {
        finish(Reason.CLIENT_TOO_SLOW); // it took nothing for the idle timeout
      }
    }, idleNanos, TimeUnit.NANOSECONDS);
  }

  /** The client's side while the response streams: its writability paces the upstream; its close ends it. */
  private final class ClientSide extends ChannelInboundHandlerAdapter {
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      boolean writable = client.isWritable();
      if (!finished && !frozen) {
        upstream.config().setAutoRead(writable);
        if (writable && stallTimer != null) {
          stallTimer.cancel(false);
          stallTimer = null;
        } else if (!writable) {
          armStallTimer();
        }
      }
      ctx.fireChannelWritabilityChanged();
    }

    /**
     * Nothing is asked for while the response streams, but a close's last read may bring what a
     * pipelining client sent: kept for the HTTP/1 handlers that follow, as is its half-close.
     */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (finished) {
        ReferenceCountUtil.release(msg);
      } else {
        early.add(msg);
      }
    }

    /**
     * The client's half-close, and a drain's signal (a stop, or the next hand-off), are for the
     * HTTP/1 handlers that follow the response: kept for them.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof DrainSignal drain) {
        onDrain(drain);
      }
      if (evt instanceof io.netty.channel.socket.ChannelInputShutdownEvent || evt instanceof DrainSignal) {
        early.add(evt);
      } else {
        ctx.fireUserEventTriggered(evt);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      finish(atDeadline ? Reason.DRAIN_DEADLINE : Reason.CLIENT_ABORTED);
      ctx.fireChannelInactive();
    }

    ResumedResponse response() {
      return ResumedResponse.this;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }

  /** The upstream's side: the body's parts, then its end; a close before it cuts the response. */
  private final class UpstreamSide extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpContent part) {
        onUpstreamContent(part);
      } else {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      client.flush();
      if (!finished && !client.isWritable()) {
        upstream.config().setAutoRead(false);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      finish(Reason.UPSTREAM_RESET);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
