package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
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
  /** One per connection; a constant: Netty asks at every add (otherwise a per-thread map look-up). */
  @Override
  public boolean isSharable() {
    return false;
  }

  /** Methods of requests not yet answered by a final response; event-loop confined. */
  private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>();

  public UpstreamCodec(int maxStatusLineBytes, int maxHeadBytes) {
    init(new Decoder(new HeadParser(false, maxStatusLineBytes, maxHeadBytes), maxHeadBytes), new Encoder());
  }

  /**
   * An upstream connection's codec that goes on reading a response body from {@code at}, where
   * another process stopped (a response in flight a hand-off moved here): no request goes out on it.
   */
  public static UpstreamCodec resuming(BodyPosition at, int maxTrailerBytes) {
    UpstreamCodec codec = new UpstreamCodec(8192, maxTrailerBytes);
    codec.inboundHandler().resumeBody(at);
    return codec;
  }

  /** Where the response body under way stands, if it can be read on elsewhere; see {@link MessageDecoder#bodyPosition}. */
  public BodyPosition bodyPosition() {
    return inboundHandler().bodyPosition();
  }

  /**
   * Netty's request encoder, plus the by-ranges path: a {@link ClientRequest} whose headers nobody
   * materialized is written as the client's bytes with the proxy's edits ({@link
   * ClientRequest#writeHead}), and its body parts follow through {@link RangedBody}. Records each
   * request's method: the response to HEAD has no body whatever it says (RFC 9110 §9.3.2).
   */
  final class Encoder extends HttpRequestEncoder {
    /** One per connection; a constant: Netty asks at every add (otherwise a per-thread map look-up). */
    @Override
    public boolean isSharable() {
      return false;
    }

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

  /**
   * Why a well-formed head is still no response this proxy relays (502), or null: another major
   * version is not HTTP/1.x. (The framing faults of RFC 9112 §6.1, chunked applied twice or
   * Transfer-Encoding in an HTTP/1.0 message, never get here: the parser refuses them.) Shared with
   * the differential fuzzer's model of this codec.
   */
  static String refusal(HttpHead head) {
    return head.majorVersion() != 1 ? "unsupported HTTP version" : null;
  }

  final class Decoder extends MessageDecoder {
    Decoder(HeadParser parser, int maxTrailerBytes) {
      super(parser, maxTrailerBytes);
    }

    @Override
    boolean head(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
      HttpHead head = parseHead(in, out);
      if (head == null) {
        return false;
      }
      String refused = refusal(head);
      if (refused != null) {
        refused(in, out, HeadParser.malformed(refused));
        return false;
      }
      int code = head.status();
      // The parser's copy of the head, made for its own pass: the fields stay bytes until
      // someone asks for them, and most responses go to the client by ranges (UpstreamResponse).
      byte[] bytes = headBytes();
      headRead(in, head);
      boolean informational = code < 200;
      HttpMethod method = informational ? methods.peek() : methods.poll();
      boolean bodyless = informational || code == 204 || code == 304 || HttpMethod.HEAD.equals(method);
      long length = head.contentLength();
      if (!bodyless && !head.hasTransferEncoding() && length > 0 && length <= in.readableBytes()) {
        // The whole body came with its head: one message, which crosses the relay and the
        // client's handlers once (UpstreamFullResponse). The next head may follow in the buffer.
        out.add(new UpstreamFullResponse(head, bytes, in.readRetainedSlice((int) length)));
        return true;
      }
      out.add(new UpstreamResponse(head, bytes));
      if (code == 101) {
        lastPart(out);
        hold(); // the bytes that follow belong to the tunnel
      } else if (bodyless) {
        lastPart(out);
      } else if (head.chunked()) {
        chunkedBody();
      } else if (head.hasTransferEncoding()) {
        bodyUntilClose(); // RFC 9112 §6.3 item 4: a final coding other than chunked
      } else if (length > 0) {
        fixedBody(length);
      } else if (length == 0) {
        lastPart(out);
      } else {
        bodyUntilClose();
      }
      return true;
    }

    /**
     * Mid-body: the response head is already on its way, so no 502 can replace it; the connection
     * closes and the relay ends the exchange as cut (never as complete).
     */
    @Override
    void chunkFramingFailed(ChannelHandlerContext ctx, List<Object> out, HeadParseException cause) {
      ctx.close();
    }

    @Override
    void refused(ByteBuf in, List<Object> out, HeadParseException cause) {
      failed(in);
      HttpResponse invalid = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_GATEWAY, HEADERS);
      invalid.setDecoderResult(DecoderResult.failure(cause));
      out.add(invalid);
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
      decode(ctx, in, out);
      if (state() == UNTIL_CLOSE) {
        lastPart(out); // the close is the body's end (RFC 9112 §6.3 item 8)
        endOfBody();
      } else if (state() == HEAD && in.isReadable()) {
        refused(in, out, HeadParser.malformed("connection closed inside a response head"));
      }
      // A cut fixed-length or chunked body yields nothing: the relay sees the close as a reset.
    }
  }
}
