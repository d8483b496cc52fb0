package io.gatehouse.http;

import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.PromiseCombiner;
import java.nio.charset.StandardCharsets;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import java.util.ArrayDeque;
import java.util.List;
import io.netty.buffer.ByteBuf;

/**
 * The client-facing HTTP/1.1 codec: {@link StrictRequestDecoder} plus a response encoder that knows
 * which request each response answers, so a response to HEAD (and a 2xx to CONNECT) is framed
 * without a body (RFC 9110 §9.3.2, RFC 9112 §6.3). Replaces Netty's {@code HttpServerCodec},
 * whose decoder cannot be made to refuse obs-fold.
 */
public final class ServerCodec extends CombinedChannelDuplexHandler<StrictRequestDecoder, HttpResponseEncoder> {
  /** Methods of requests not yet answered; event-loop confined. */
  private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>();

  public ServerCodec(int maxInitialLineBytes, int maxHeaderBytes) {
    HttpDecoderConfig config =
        new HttpDecoderConfig()
            .setMaxInitialLineLength(maxInitialLineBytes)
            .setMaxHeaderSize(maxHeaderBytes)
            .setMaxChunkSize(64 * 1024)
            .setValidateHeaders(true);
    init(new Decoder(config, maxInitialLineBytes + maxHeaderBytes), new Encoder());
  }

  /**
   * No socket read once the client half-closed: there is nothing left to read, and Netty's epoll
   * transport fails such a read ({@code epoll_ctl} ENOENT), which would close the connection before
   * the response to the last request is out. Every read the proxy asks for passes here.
   */
  @Override
  public void read(ChannelHandlerContext ctx) throws Exception {
    if (ctx.channel() instanceof DuplexChannel && ((DuplexChannel) ctx.channel()).isInputShutdown()) {
      return;
    }
    super.read(ctx);
  }

  /**
   * After a CONNECT head the bytes that follow are not HTTP (RFC 9110 §9.3.6): the decoder stops
   * and keeps them, so that when the codec is removed for a tunnel they are handed on as raw bytes,
   * and so that a refused CONNECT (which closes the connection) never has them parsed as a request.
   */
  private final class Decoder extends StrictRequestDecoder {
    /** Set once a CONNECT head was decoded; event-loop confined. */
    private boolean afterConnect;
    /** The client half-closed after its CONNECT: held for the tunnel, with the bytes before it. */
    private boolean inputEndedAfterConnect;

    Decoder(HttpDecoderConfig config, int maxHeadBytes) {
      super(config, maxHeadBytes);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
      if (afterConnect) {
        return;
      }
      int before = out.size();
      super.decode(ctx, in, out);
      for (int i = before; i < out.size(); i++) {
        if (out.get(i) instanceof HttpRequest) {
          HttpMethod method = ((HttpRequest) out.get(i)).method();
          methods.add(method);
          afterConnect |= HttpMethod.CONNECT.equals(method) && ((HttpRequest) out.get(i)).decoderResult().isSuccess();
        }
      }
    }

    /**
     * A FIN after a CONNECT ends the tunnel's upstream direction, not an HTTP message: letting the
     * decoder see it would drop the bytes kept for the tunnel. It is passed on when the codec leaves
     * (after those bytes); a refused CONNECT closes the connection anyway.
     */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
      if (afterConnect && evt instanceof ChannelInputShutdownEvent) {
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

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
      if (afterConnect) {
        // Not asking for more: the tunnel's bytes wait in the socket until the upstream is ready.
        ctx.fireChannelReadComplete();
        return;
      }
      super.channelReadComplete(ctx);
    }
  }

  /**
   * Netty's response encoder, plus the by-ranges path: a forwarded {@link UpstreamResponse} whose
   * headers nobody asked for is written as its upstream bytes ({@link UpstreamResponse#writeHead}),
   * and its body parts follow as they came (chunk framing added when the proxy chunks the body,
   * nothing written for a bodyless response), without Netty's encoder, whose state the head never
   * passed through.
   */
  private final class Encoder extends HttpResponseEncoder {
    private static final int NONE = 0;
    private static final int RAW = 1;
    private static final int CHUNKED = 2;
    private static final int EMPTY = 3;
    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] LAST_CHUNK = {'0', '\r', '\n'};
    /** Shared, never released: a direct buffer, which the socket writes without a copy (as Netty's encoder does). */
    private static final ByteBuf CRLF_BUF =
        Unpooled.unreleasableBuffer(Unpooled.directBuffer(2).writeBytes(CRLF)).asReadOnly();

    private HttpMethod method;
    /** How the body of the response written by ranges is framed; NONE outside one. */
    private int ranged = NONE;

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
      if (ranged != NONE && msg instanceof HttpContent) {
        writeBody(ctx, (HttpContent) msg, promise);
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
      ranged = HttpMethod.HEAD.equals(method) || response.status().code() == 304 ? EMPTY
          : response.chunkedForClient() ? CHUNKED : RAW;
      ByteBuf buf = ctx.alloc().buffer(response.receivedLength() + 64);
      response.writeHead(buf);
      ctx.write(buf, promise);
    }

    private void writeBody(ChannelHandlerContext ctx, HttpContent part, ChannelPromise promise) {
      boolean last = part instanceof LastHttpContent;
      try {
        ByteBuf data = part.content();
        if (ranged == EMPTY || (ranged == RAW && !data.isReadable())) {
          ctx.write(Unpooled.EMPTY_BUFFER, promise);
        } else if (ranged == RAW) {
          ctx.write(data.retain(), promise);
        } else {
          writeChunk(ctx, data, last ? (LastHttpContent) part : null, promise);
        }
      } finally {
        part.release();
        if (last) {
          ranged = NONE;
        }
      }
    }

    /** RFC 9112 §7.1: {@code size CRLF data CRLF}; the last part adds {@code 0 CRLF [trailers] CRLF}. */
    private void writeChunk(ChannelHandlerContext ctx, ByteBuf data, LastHttpContent last, ChannelPromise promise) {
      int size = data.readableBytes();
      ByteBuf end = null;
      if (last != null) {
        end = ctx.alloc().buffer(7 + 64 * last.trailingHeaders().size());
        if (size > 0) {
          end.writeBytes(CRLF);
        }
        end.writeBytes(LAST_CHUNK);
        for (java.util.Iterator<java.util.Map.Entry<CharSequence, CharSequence>> it =
            last.trailingHeaders().iteratorCharSequence(); it.hasNext(); ) {
          java.util.Map.Entry<CharSequence, CharSequence> field = it.next();
          end.writeCharSequence(field.getKey(), StandardCharsets.ISO_8859_1);
          end.writeByte(':').writeByte(' ');
          end.writeCharSequence(field.getValue(), StandardCharsets.ISO_8859_1);
          end.writeBytes(CRLF);
        }
        end.writeBytes(CRLF);
      }
      if (size == 0) {
        ctx.write(end != null ? end : Unpooled.EMPTY_BUFFER, promise);
        return;
      }
      ByteBuf sizeLine = ctx.alloc().buffer(10);
      sizeLine.writeCharSequence(Integer.toHexString(size), StandardCharsets.US_ASCII);
      sizeLine.writeBytes(CRLF);
      ByteBuf tail = end != null ? end : CRLF_BUF.duplicate();
      if (promise.isVoid()) {
        ctx.write(sizeLine, promise);
        ctx.write(data.retain(), promise);
        ctx.write(tail, promise);
      } else {
        PromiseCombiner combiner = new PromiseCombiner(ctx.executor());
        combiner.add(ctx.write(sizeLine));
        combiner.add(ctx.write(data.retain()));
        combiner.add(ctx.write(tail));
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
