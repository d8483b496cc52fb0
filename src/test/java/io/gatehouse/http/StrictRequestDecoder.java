package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;

/**
 * Netty's request decoder plus the checks it leaves out: before each request head is parsed, the
 * raw head bytes are scanned by {@link RequestHeadScanner} so that obs-fold (RFC 9112 §5.2), NUL
 * and other control bytes are refused instead of silently repaired. Netty already rejects bare LF,
 * bare CR, CL+TE, duplicate Content-Length and bad chunk sizes.
 */
class StrictRequestDecoder extends HttpRequestDecoder {
  private final RequestHeadScanner scanner;
  /** True while the next bytes belong to a request head. Event-loop confined: a plain field. */
  private boolean atHead = true;
  private boolean failed;

  StrictRequestDecoder(HttpDecoderConfig config, int maxHeadBytes) {
    super(config);
    this.scanner = new RequestHeadScanner(maxHeadBytes);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    if (atHead) {
      int verdict = scanner.scan(in);
      if (verdict == RequestHeadScanner.INCOMPLETE) {
        return;
      }
      if (verdict < 0 && verdict != RequestHeadScanner.TOO_LARGE) {
        failed = true;
        in.skipBytes(in.readableBytes());
        out.add(invalid(RequestHeadScanner.describe(verdict)));
        return;
      }
      // TOO_LARGE: let Netty's own size check produce its TooLongFrameException.
    }
    int before = out.size();
    int readerBefore = in.readerIndex();
    super.decode(ctx, in, out);
    if (atHead && out.size() == before && in.readerIndex() != readerBefore) {
      scanner.reset(); // Netty skipped bytes (stray line endings) without producing a head
    }
    for (int i = before; i < out.size(); i++) {
      Object msg = out.get(i);
      if (msg instanceof HttpRequest) {
        atHead = false;
        if (((HttpRequest) msg).decoderResult().isFailure()) {
          failed = true;
        }
      }
      if (msg instanceof LastHttpContent) {
        atHead = true;
        scanner.reset();
        if (((LastHttpContent) msg).decoderResult().isFailure()) {
          failed = true;
        }
      }
    }
  }

  private static HttpRequest invalid(String reason) {
    DefaultFullHttpRequest request =
        new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/bad-request", Unpooled.EMPTY_BUFFER);
    request.setDecoderResult(DecoderResult.failure(new MalformedRequestException(reason)));
    return request;
  }
}
