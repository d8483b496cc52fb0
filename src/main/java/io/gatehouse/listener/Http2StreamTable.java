package io.gatehouse.listener;

import io.gatehouse.http.ClientTimeouts;
import io.gatehouse.relay.DownstreamHandler;
import io.gatehouse.relay.Http2StreamSide;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2FrameStreamEvent;
import io.netty.handler.codec.http2.Http2FrameStreamException;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamFrame;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.IntObjectHashMap;
import java.util.ArrayList;
import java.util.function.Supplier;

/**
 * The streams of an HTTP/2 client connection, each an {@link Http2StreamSide} that its proxy
 * handler reads from and writes to, without a channel, a pipeline and HTTP/1 codec handlers of its
 * own (Netty's {@code Http2MultiplexHandler} makes a child channel per stream; this costs a map
 * entry). A stream's first HEADERS open its side and start a proxy handler on it; its frames go to
 * it; the frame codec's stream events (writability, closed) and a stream error end it or wake it;
 * the connection's writability and its close reach every side.
 *
 * <p>Sits after the frame codec ({@code h2-codec -> h2-timeouts -> h2-flush -> h2-streams}); frames
 * without a stream (SETTINGS, PING, GOAWAY) pass on. Confined to the connection's event loop.
 */
final class Http2StreamTable extends ChannelDuplexHandler {
  private final Http2Connection connection;
  private final Supplier<ClientTimeouts> timeouts;
  private final ProxyHandlerFactory handlers;
  private final IntObjectHashMap<Http2StreamSide> sides = new IntObjectHashMap<>();

  Http2StreamTable(Http2Connection connection, Supplier<ClientTimeouts> timeouts, ProxyHandlerFactory handlers) {
    this.connection = connection;
    this.timeouts = timeouts;
    this.handlers = handlers;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    if (!(msg instanceof Http2StreamFrame frame) || frame.stream() == null) {
      ctx.fireChannelRead(msg);
      return;
    }
    Http2FrameStream stream = frame.stream();
    Http2StreamSide side = sides.get(stream.id());
    if (msg instanceof Http2ResetFrame) {
      ReferenceCountUtil.release(msg);
      if (side != null) {
        sides.remove(stream.id());
        side.onStreamClosed();
      }
      return;
    }
    if (side == null) {
      if (!(msg instanceof Http2HeadersFrame)) {
        ReferenceCountUtil.release(msg);
        return;
      }
      ClientTimeouts t = timeouts.get();
      DownstreamHandler handler = handlers.create(t);
      side = new Http2StreamSide(ctx, stream, connection, t, handler);
      sides.put(stream.id(), side);
      handler.start(side); // it asks for the request: the HEADERS below
    }
    side.onFrame(frame);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof Http2FrameStreamEvent event) {
      Http2StreamSide side = sides.get(event.stream().id());
      if (side != null) {
        if (event.type() == Http2FrameStreamEvent.Type.Writability) {
          side.onWritabilityChanged();
        } else if (event.stream().state() == Http2Stream.State.CLOSED) {
          sides.remove(event.stream().id());
          side.onStreamClosed();
        }
      }
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  /** Tells every open stream of {@code evt} (the drain's deadline, before the connection closes). */
  void tellEveryStream(Object evt) {
    for (Http2StreamSide side : new ArrayList<>(sides.values())) {
      side.onEvent(evt);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    for (Http2StreamSide side : new ArrayList<>(sides.values())) {
      side.onWritabilityChanged();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    closeAll();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    closeAll();
  }

  private void closeAll() {
    ArrayList<Http2StreamSide> open = new ArrayList<>(sides.values());
    sides.clear();
    for (Http2StreamSide side : open) {
      side.onStreamClosed();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
    if (cause instanceof Http2FrameStreamException e) {
      Http2StreamSide side = sides.remove(e.stream().id());
      if (side != null) {
        side.onStreamClosed();
      }
      return;
    }
    ctx.fireExceptionCaught(cause);
  }
}
