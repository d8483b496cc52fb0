package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.util.concurrent.PromiseCombiner;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The client-facing HTTP/1.1 codec: {@link RequestDecoder} (Gatehouse's own strict parser) plus a
 * response encoder that knows which request each response answers, so a response to HEAD (and a
 * 2xx to CONNECT) is framed without a body (RFC 9110 §9.3.2, RFC 9112 §6.3). Replaces Netty's
 * {@code HttpServerCodec}, whose decoder cannot be made to refuse obs-fold.
 *
 * <p>One handler in the pipeline, the decoder itself, writing through its own encoder: not Netty's
 * {@code CombinedChannelDuplexHandler}, which wraps each half in a context of its own and adds a
 * delegating call to every read, write, flush and read request, and two objects to every connection.
 */
public final class ServerCodec extends RequestDecoder implements ChannelOutboundHandler {
  /** One per connection; a constant: Netty asks at every add (otherwise a per-thread map look-up). */
  @Override
  public boolean isSharable() {
    return false;
  }

  /** Methods of requests not yet answered; event-loop confined. */
  private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>();
  private final Encoder encoder = new Encoder();
  /** {@link #endResponses} was called: writes pass as they are. */
  private boolean raw;
  /** The client half-closed after its CONNECT: held for the tunnel, with the bytes before it. */
  private boolean inputEndedAfterConnect;

  public ServerCodec(int maxInitialLineBytes, int maxHeaderBytes) {
    super(maxInitialLineBytes, maxHeaderBytes);
  }

  /**
   * No socket read once the client half-closed: there is nothing left to read. (Netty 4.2.18's epoll
   * transport used to fail such a read with {@code epoll_ctl} ENOENT, closing the connection before
   * the response to the last request was out; {@code lifecycle.EpollRegistrationKeeper} fixed that,
   * and this saves the pointless interest change.) Every read the proxy asks for passes here.
   */
  @Override
  public void read(ChannelHandlerContext ctx) {
    if (ctx.channel() instanceof DuplexChannel && ((DuplexChannel) ctx.channel()).isInputShutdown()) {
      return;
    }
    ctx.read();
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
    if (raw) {
      ctx.write(msg, promise);
    } else {
      encoder.write(ctx, msg, promise);
    }
  }

  /**
   * No more HTTP responses on this connection: what is written from now on passes as it is. For a
   * protocol upgrade (101): the relay's tunnel may write the upstream's first bytes to this side while
   * this codec is still in the pipeline handing on what it read, and an HTTP encoder would refuse them.
   */
  public void endResponses() {
    raw = true;
  }

  /**
   * Nothing of a next request was read: no byte waits in the decoder and no response is owed (a
   * hand-off may then move the socket to another process, which reads the next request itself).
   */
  public boolean betweenRequests() {
    return !raw && state() == HEAD && actualReadableBytes() == 0 && methods.isEmpty();
  }

  /**
   * Whether the response under way has its body framed here by {@link RangedBody} (its head went
   * out by ranges), chunked ({@code true}) or as it comes ({@code false}); null otherwise (the head
   * went through Netty's encoder, whose state only this process knows, or no body is under way).
   */
  public Boolean responseBodyChunked() {
    if (!encoder.body.active() || encoder.body.empty()) {
      return null;
    }
    return encoder.body.chunked();
  }

  @Override
  public void flush(ChannelHandlerContext ctx) {
    ctx.flush();
  }

  @Override
  public void bind(ChannelHandlerContext ctx, SocketAddress localAddress, ChannelPromise promise) {
    ctx.bind(localAddress, promise);
  }

  @Override
  public void connect(ChannelHandlerContext ctx, SocketAddress remoteAddress, SocketAddress localAddress,
      ChannelPromise promise) {
    ctx.connect(remoteAddress, localAddress, promise);
  }

  @Override
  public void disconnect(ChannelHandlerContext ctx, ChannelPromise promise) {
    ctx.disconnect(promise);
  }

  @Override
  public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
    ctx.close(promise);
  }

  @Override
  public void deregister(ChannelHandlerContext ctx, ChannelPromise promise) {
    ctx.deregister(promise);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    int before = out.size();
    super.decode(ctx, in, out);
    for (int i = before; i < out.size(); i++) {
      if (out.get(i) instanceof HttpRequest) {
        methods.add(((HttpRequest) out.get(i)).method());
      }
    }
  }

  /**
   * After a CONNECT head the bytes that follow are not HTTP (RFC 9110 §9.3.6): the decoder stops and
   * keeps them ({@link MessageDecoder#HOLD}: nothing more is read from the socket either), so that
   * when the codec is removed for a tunnel they are handed on as raw bytes, and so that a refused
   * CONNECT (which closes the connection) never has them parsed as a request. A FIN after a CONNECT
   * ends the tunnel's upstream direction, not an HTTP message: letting the decoder see it would drop
   * the bytes kept for the tunnel. It is passed on when the codec leaves (after those bytes); a
   * refused CONNECT closes the connection anyway.
   */
  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (state() == HOLD && evt instanceof ChannelInputShutdownEvent) {
      inputEndedAfterConnect = true;
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) throws Exception {
    if (inputEndedAfterConnect) {
      ctx.fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
    }
    super.handlerRemoved0(ctx);
  }

  /**
   * Netty's response encoder, plus the by-ranges path: a forwarded {@link UpstreamResponse} whose
   * headers nobody asked for is written as its upstream bytes ({@link UpstreamResponse#writeHead}),
   * and its body parts follow as they came (chunk framing added when the proxy chunks the body,
   * nothing written for a bodyless response), without Netty's encoder, whose state the head never
   * passed through. Not in the pipeline: the codec calls it with its own context.
   */
  private final class Encoder extends HttpResponseEncoder {
    private HttpMethod method;
    /** The body of the response written by ranges. */
    private final RangedBody body = new RangedBody();

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
      if (body.active() && msg instanceof HttpContent) {
        body.write(ctx, (HttpContent) msg, promise);
      } else if (msg instanceof UpstreamResponse && ((UpstreamResponse) msg).writesByRanges()
          && !HttpMethod.CONNECT.equals(methods.peek())) {
        writeHead(ctx, (UpstreamResponse) msg, promise);
      } else {
        super.write(ctx, msg, promise);
      }
    }

    private void writeHead(ChannelHandlerContext ctx, UpstreamResponse response, ChannelPromise promise) {
      method = methods.poll();
      // RFC 9110 §9.3.2, §15.4.5: no body after a response to HEAD or a 304, whatever the head says.
      body.start(HttpMethod.HEAD.equals(method) || response.status().code() == 304 ? RangedBody.EMPTY
          : response.chunkedForClient() ? RangedBody.CHUNKED : RangedBody.RAW);
      ByteBuf buf = ctx.alloc().buffer(response.receivedLength() + 64);
      response.writeHead(buf);
      if (!(response instanceof UpstreamFullResponse whole)) {
        ctx.write(buf, promise);
      } else if (promise.isVoid()) {
        ctx.write(buf, promise);
        body.write(ctx, whole, promise);
      } else {
        PromiseCombiner combiner = new PromiseCombiner(ctx.executor());
        combiner.add(ctx.write(buf));
        ChannelPromise rest = ctx.newPromise();
        combiner.add(rest);
        body.write(ctx, whole, rest);
        combiner.finish(promise);
      }
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
      if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
        return super.isContentAlwaysEmpty(msg); // 1xx do not answer the request
      }
      method = methods.poll();
      return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
    }

    @Override
    protected void sanitizeHeadersBeforeEncode(HttpResponse msg, boolean isAlwaysEmpty) {
      if (!isAlwaysEmpty
          && HttpMethod.CONNECT.equals(method)
          && msg.status().codeClass() == HttpStatusClass.SUCCESS) {
        msg.headers().remove(io.netty.handler.codec.http.HttpHeaderNames.TRANSFER_ENCODING);
        return;
      }
      super.sanitizeHeadersBeforeEncode(msg, isAlwaysEmpty);
    }
  }
}
