package io.gatehouse.listener;

import io.gatehouse.http.MalformedRequestException;
import io.gatehouse.http.PipelineNames;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpRequest;

/**
 * First handler of a TLS listener's connections: {@code tls-guard (this) -> tls -> ...}. It looks at
 * the first byte the client sends. A TLS handshake starts with a record of type handshake (0x16,
 * RFC 8446 §5.1); a plain HTTP request starts with its method, an upper-case token (RFC 9110 §9.1).
 * For TLS it steps aside. For plain HTTP, which the TLS handler would only meet with a failed
 * handshake and silence, the connection becomes plain HTTP/1.1 whose requests are all refused with
 * 400 "The plain HTTP request was sent to HTTPS port" (as nginx answers), so the reply is counted
 * and logged like any other. Anything else goes to the TLS handler, as before.
 */
final class TlsPortGuard extends ChannelInboundHandlerAdapter {
  /** One per connection; a constant: Netty asks at every add (otherwise a per-thread map look-up). */
  @Override
  public boolean isSharable() {
    return false;
  }

  static final String MESSAGE = "The plain HTTP request was sent to HTTPS port";
  private static final byte TLS_HANDSHAKE = 0x16;

  private final ClientPipeline pipeline;
  private final ListenerSettings settings;

  TlsPortGuard(ClientPipeline pipeline, ListenerSettings settings) {
    this.pipeline = pipeline;
    this.settings = settings;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf && ((ByteBuf) msg).isReadable()) {
      byte first = ((ByteBuf) msg).getByte(((ByteBuf) msg).readerIndex());
      if (first != TLS_HANDSHAKE && first >= 'A' && first <= 'Z') {
        toPlainHttp(ctx.pipeline());
      }
      ctx.fireChannelRead(msg);
      ctx.pipeline().remove(this);
      return;
    }
    ctx.fireChannelRead(msg);
  }

  private void toPlainHttp(ChannelPipeline p) {
    p.remove(PipelineNames.TLS);
    p.remove(PipelineNames.TLS_ERRORS);
    if (p.get(PipelineNames.PROTOCOL_SWITCH) != null) { // ALPN would have chosen; HTTP/1.1 it is
      p.remove(PipelineNames.PROTOCOL_SWITCH);
      pipeline.addHttp1(p, settings);
    }
    p.addAfter(PipelineNames.HTTP_CODEC, PipelineNames.PLAIN_ON_TLS, new RefuseRequests());
  }

  /** Marks every decoded request as malformed, so the proxy handler answers 400 and closes. */
  private static final class RefuseRequests extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpRequest && ((HttpRequest) msg).decoderResult().isSuccess()) {
        ((HttpRequest) msg).setDecoderResult(DecoderResult.failure(new MalformedRequestException(MESSAGE)));
      }
      ctx.fireChannelRead(msg);
    }
  }
}
