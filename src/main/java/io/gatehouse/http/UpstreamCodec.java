package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The upstream leg's HTTP/1.1 codec: Netty's request encoder, and Gatehouse's own response decoder
 * ({@link HeadParser}, {@link ChunkedFramer}) in place of Netty's {@code HttpClientCodec} decoder.
 * It produces the same messages the relay already handles (a head, body parts as retained slices of
 * the received buffer, a last part), so every rule above it stays; what changes is how a response is
 * read: one strict pass over the head, no line-by-line copying, no header re-validation, and the
 * parser's stricter rules (obs-fold, control bytes in the status line, a status below 100 and
 * anything {@code HeadParserFuzzTest} lists) answer 502.
 *
 * <p>Framing (RFC 9112 §6.3): a response to HEAD, a 1xx, 204 and 304 have no body; then chunked
 * (the last coding); then {@code Content-Length}; else the body ends when the upstream closes. After
 * a 101 nothing more is decoded: the bytes are kept for the tunnel, which gets them when the codec
 * leaves. Event-loop confined: plain fields.
 *
 * <p>A response head is an {@link UpstreamResponse}: its fields stay bytes unless someone reads
 * them, so that the client's codec can write it forward by ranges.
 */
public final class UpstreamCodec extends CombinedChannelDuplexHandler<UpstreamCodec.Decoder, UpstreamCodec.Encoder> {
  /** Methods of requests not yet answered by a final response; event-loop confined. */
  private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>();

  public UpstreamCodec(int maxStatusLineBytes, int maxHeadBytes) {
    init(new Decoder(new HeadParser(false, maxStatusLineBytes, maxHeadBytes), maxHeadBytes), new Encoder());
  }

  /**
   * Netty's request encoder, plus the by-ranges path: a {@link ClientRequest} whose headers nobody
   * materialized is written as the client's bytes with the proxy's edits ({@link
   * ClientRequest#writeHead}), and its body parts follow through {@link RangedBody}. Records each
   * request's method: the response to HEAD has no body whatever it says (RFC 9110 §9.3.2).
   */
  final class Encoder extends HttpRequestEncoder {
    private final RangedBody body = new RangedBody();

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
      if (body.active() && msg instanceof HttpContent) {
        body.write(ctx, (HttpContent) msg, promise);
      } else if (msg instanceof ClientRequest && ((ClientRequest) msg).writesByRanges()) {
        ClientRequest request = (ClientRequest) msg;
        methods.add(request.method());
        // The relay frames a request body as it came: chunked on both hops, or a length.
        body.start(request.head().onlyChunked() ? RangedBody.CHUNKED : RangedBody.RAW);
        ByteBuf buf = ctx.alloc().buffer(request.receivedLength() + 256);
        request.writeHead(buf);
        ctx.write(buf, promise);
      } else {
        super.write(ctx, msg, promise);
      }
    }

    @Override
    protected void encodeInitialLine(ByteBuf buf, HttpRequest request) throws Exception {
      methods.add(request.method());
      super.encodeInitialLine(buf, request);
    }
  }

  private static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);
  private static final HttpHeadersFactory TRAILERS = DefaultHttpHeadersFactory.trailersFactory().withValidation(false);

  /**
   * Why a well-formed head is still no response this proxy relays (502), or null: another major
   * version is not HTTP/1.x; an HTTP/1.0 message with Transfer-Encoding was likely forwarded by
   * someone who did not handle the coding, so its framing is faulty (RFC 9112 §6.1; Netty refuses
   * it too). Shared with the differential fuzzer's model of this codec.
   */
  static String refusal(HttpHead head) {
    if (head.majorVersion() != 1) {
      return "unsupported HTTP version";
    }
    if (head.minorVersion() == 0 && head.hasTransferEncoding()) {
      return "Transfer-Encoding in an HTTP/1.0 response";
    }
    return null;
  }

  final class Decoder extends ByteToMessageDecoder {
    private static final int HEAD = 0;
    private static final int FIXED = 1;
    private static final int CHUNKED = 2;
    private static final int UNTIL_CLOSE = 3;
    private static final int UPGRADED = 4;
    private static final int FAILED = 5;

    private final HeadParser parser;
    private final int maxTrailerBytes;
    private int state = HEAD;
    private long remaining;
    private ChunkedBody body;

    Decoder(HeadParser parser, int maxTrailerBytes) {
      this.parser = parser;
      this.maxTrailerBytes = maxTrailerBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      while (in.isReadable()) {
        switch (state) {
          case HEAD:
            if (!head(in, out)) {
              return;
            }
            break;
          case FIXED:
            int n = (int) Math.min(remaining, in.readableBytes());
            remaining -= n;
            if (remaining == 0) {
              out.add(new DefaultLastHttpContent(in.readRetainedSlice(n), TRAILERS));
              state = HEAD;
            } else {
              out.add(new DefaultHttpContent(in.readRetainedSlice(n)));
            }
            break;
          case CHUNKED:
            if (!chunked(ctx, in, out)) {
              return;
            }
            break;
          case UNTIL_CLOSE:
            out.add(new DefaultHttpContent(in.readRetainedSlice(in.readableBytes())));
            break;
          case FAILED:
            in.skipBytes(in.readableBytes());
            return;
          default:
            return; // UPGRADED: the bytes wait in the buffer for the tunnel
        }
      }
    }

    /** @return whether a head was read (more may follow in the same buffer) */
    private boolean head(ByteBuf in, List<Object> out) {
      HttpHead head;
      try {
        head = parser.parse(in);
      } catch (HeadParseException e) {
        fail(in, out, e);
        return false;
      }
      if (head == null) {
        return false;
      }
      String refused = refusal(head);
      if (refused != null) {
        fail(in, out, HeadParser.malformed(refused));
        return false;
      }
      int code = head.status();
      // The parser's copy of the head, made for its own pass: the fields stay bytes until
      // someone asks for them, and most responses go to the client by ranges (UpstreamResponse).
      HttpResponse response = new UpstreamResponse(head, parser.headBytes());
      in.skipBytes(head.length());
      parser.reset();
      out.add(response);
      boolean informational = code < 200;
      HttpMethod method = informational ? methods.peek() : methods.poll();
      if (code == 101) {
        out.add(LastHttpContent.EMPTY_LAST_CONTENT);
        state = UPGRADED;
      } else if (informational || code == 204 || code == 304 || HttpMethod.HEAD.equals(method)) {
        out.add(LastHttpContent.EMPTY_LAST_CONTENT);
      } else if (head.chunked()) {
        body = new ChunkedBody(maxTrailerBytes);
        state = CHUNKED;
      } else if (head.hasTransferEncoding()) {
        state = UNTIL_CLOSE; // RFC 9112 §6.3 item 4: a final coding other than chunked
      } else if (head.contentLength() > 0) {
        remaining = head.contentLength();
        state = FIXED;
      } else if (head.contentLength() == 0) {
        out.add(LastHttpContent.EMPTY_LAST_CONTENT);
      } else {
        state = UNTIL_CLOSE;
      }
      return true;
    }

    /** @return whether to go on in the same buffer */
    private boolean chunked(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      try {
        int result = body.read(in, out);
        if (result == ChunkedBody.DONE) {
          body = null;
          state = HEAD;
        }
        return result != ChunkedBody.NEED_BYTES;
      } catch (HeadParseException e) {
        // Mid-body: the response head is already on its way, so no 502 can replace it; the
        // connection closes and the relay ends the exchange as cut (never as complete).
        state = FAILED;
        in.skipBytes(in.readableBytes());
        ctx.close();
        return false;
      }
    }

    private void fail(ByteBuf in, List<Object> out, HeadParseException cause) {
      state = FAILED;
      in.skipBytes(in.readableBytes());
      HttpResponse invalid = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_GATEWAY, HEADERS);
      invalid.setDecoderResult(DecoderResult.failure(cause));
      out.add(invalid);
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
      decode(ctx, in, out);
      if (state == UNTIL_CLOSE) {
        out.add(LastHttpContent.EMPTY_LAST_CONTENT); // the close is the body's end (RFC 9112 §6.3 item 8)
        state = HEAD;
      } else if (state == HEAD && in.isReadable()) {
        fail(in, out, HeadParser.malformed("connection closed inside a response head"));
      }
      // A cut fixed-length or chunked body yields nothing: the relay sees the close as a reset.
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
      if (state == UPGRADED) {
        ctx.fireChannelReadComplete(); // not asking for more: the bytes wait for the tunnel
        return;
      }
      super.channelReadComplete(ctx);
    }
  }
}
