package io.gatehouse.http;

import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.channel.ChannelHandlerContext;
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

  private final class Encoder extends HttpResponseEncoder {
    private HttpMethod method;

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
