package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import java.util.List;

/**
 * The differential fuzzer's oracle for requests: Netty's request decoder with the strictness
 * scanner, configured and stopped after a CONNECT head as the client leg's decoder was before
 * Gatehouse's own parser replaced it ({@link RequestDecoder}). Test-only.
 */
final class NettyRequestOracle extends StrictRequestDecoder {
  private boolean afterConnect;

  NettyRequestOracle(int maxLine, int maxHead) {
    super(new HttpDecoderConfig().setMaxInitialLineLength(maxLine).setMaxHeaderSize(maxHead)
        .setMaxChunkSize(64 * 1024).setValidateHeaders(true), maxLine + maxHead);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    if (afterConnect) {
      return;
    }
    int before = out.size();
    super.decode(ctx, in, out);
    for (int i = before; i < out.size(); i++) {
      if (out.get(i) instanceof HttpRequest request) {
        afterConnect |= HttpMethod.CONNECT.equals(request.method()) && request.decoderResult().isSuccess();
      }
    }
  }
}
