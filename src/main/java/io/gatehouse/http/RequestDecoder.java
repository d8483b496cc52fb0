package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The client leg's HTTP/1 request decoder: {@link HeadParser} finds and indexes each request head in
 * one strict pass (every refusal it makes is a 400, 414 or 431), the head becomes a
 * {@link ClientRequest} whose fields stay bytes, and the body follows as retained slices of the
 * received buffer: {@code Content-Length} bytes, or chunks read by {@link ChunkedBody}. It produces
 * the messages the relay handles (a head, body parts, a last part; a head whose decoder result is a
 * failure for a refused one), so that nothing above it depends on how a head was read.
 *
 * <p>Framing (RFC 9112 §6.3): chunked when {@code Transfer-Encoding} is exactly {@code chunked};
 * any other coding is passed up for {@link RequestChecks} to refuse (501) and nothing after it is
 * read; then {@code Content-Length}; else no body. After a refused head or body nothing more is
 * read: the connection closes once the refusal is sent. After a CONNECT head nothing more is
 * decoded ({@link #HOLD}). Event-loop confined: plain fields.
 */
class RequestDecoder extends MessageDecoder {
  private final int maxFieldBytes;

  /**
   * @param maxLineBytes the longest request line (414 beyond it)
   * @param maxFieldBytes the largest field section (431 beyond it)
   */
  RequestDecoder(int maxLineBytes, int maxFieldBytes) {
    super(new HeadParser(true, maxLineBytes, maxLineBytes + maxFieldBytes), maxFieldBytes);
    this.maxFieldBytes = maxFieldBytes;
  }

  @Override
  boolean head(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    HttpHead head = parseHead(in, out);
    if (head == null) {
      return false;
    }
    byte[] bytes = headBytes();
    int fieldsStart = head.fieldCount() == 0 ? head.length() - 2 : head.nameStart(0);
    if (head.length() - fieldsStart > maxFieldBytes) {
      refused(in, out, new HeadParseException(HeadParseException.Kind.HEAD_TOO_LARGE, "head too large"));
      return false;
    }
    String codings = head.hasTransferEncoding() && !head.onlyChunked() ? codingError(head) : null;
    if (codings != null) {
      refused(in, out, HeadParser.malformed(codings));
      return false;
    }
    // The parser's copy of the head, made for its own pass: the fields stay bytes until someone
    // asks for them, and the head goes upstream by ranges (ClientRequest).
    ByteBuf copy = Unpooled.wrappedBuffer(bytes);
    HttpMethod method = method(bytes, head.methodStart(), head.methodEnd());
    String uri = new String(bytes, head.targetStart(), head.targetEnd() - head.targetStart(), StandardCharsets.ISO_8859_1);
    out.add(new ClientRequest(head, copy, method, uri, version(head)));
    headRead(in, head);
    if (HttpMethod.CONNECT.equals(method) && !head.hasTransferEncoding() && head.contentLength() <= 0) {
      lastPart(out);
      hold(); // RFC 9110 §9.3.6: the bytes that follow belong to the tunnel
    } else if (head.majorVersion() != 1 || (head.hasTransferEncoding() && !head.onlyChunked())
        || HttpMethod.CONNECT.equals(method)) {
      failed(in); // refused above (505, 501, a CONNECT with content): its framing is not one this proxy reads
    } else if (head.hasTransferEncoding()) {
      chunkedBody();
    } else if (head.contentLength() > 0) {
      fixedBody(head.contentLength());
    } else {
      lastPart(out);
    }
    return true;
  }

  /** RFC 9112 §7.1: a body that cannot be delimited ends the exchange with a 400 (RequestStream). */
  @Override
  void chunkFramingFailed(ChannelHandlerContext ctx, List<Object> out, HeadParseException cause) {
    LastHttpContent failed = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER);
    failed.setDecoderResult(DecoderResult.failure(new MalformedRequestException(cause.getMessage())));
    out.add(failed);
  }

  /**
   * The client's input ended. Inside a head whose request line arrived, that is an abort
   * ({@link PrematureChannelClosureException}, which the proxy handler logs and closes on); inside a
   * body nothing is produced, and the end of input itself tells the proxy the body was cut.
   */
  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    decode(ctx, in, out);
    if (state() == HEAD && in.isReadable() && hasRequestLine(in)) {
      failed(in);
      out.add(invalid(new PrematureChannelClosureException("connection closed inside a request head")));
    }
  }

  private static boolean hasRequestLine(ByteBuf in) {
    int i = in.readerIndex();
    while (i < in.writerIndex() && (in.getByte(i) == '\r' || in.getByte(i) == '\n')) {
      i++;
    }
    return in.indexOf(i, in.writerIndex(), (byte) '\n') >= 0;
  }

  /**
   * RFC 9112 §6.3 item 4: a request whose final coding is not {@code chunked} cannot be delimited:
   * 400. (Another coding before a final {@code chunked} is well-framed but not implemented:
   * {@link RequestChecks} answers 501. A request with {@code chunked} twice, or an HTTP/1.0 one with
   * {@code Transfer-Encoding}, never gets here: the parser refuses both.)
   */
  private static String codingError(HttpHead head) {
    return head.chunked() ? null : "chunked is not the final transfer coding";
  }

  @Override
  void refused(ByteBuf in, List<Object> out, HeadParseException cause) {
    HttpRequest refused = invalid(switch (cause.kind()) {
      case LINE_TOO_LONG -> new TooLongHttpLineException(cause.getMessage());
      case HEAD_TOO_LARGE -> new TooLongHttpHeaderException(cause.getMessage());
      default -> new MalformedRequestException(cause.getMessage());
    });
    if (cause.kind() == HeadParseException.Kind.HEAD_TOO_LARGE) {
      describeStart(in, refused);
    }
    failed(in);
    out.add(refused);
  }

  /**
   * A head refused for its size still says where it was going when its request line and a
   * {@code Host} field within the limit were read: {@code refused} gets them, so that the refusal is
   * counted and logged with the route (a 431 on a route's dashboard). Nothing here is trusted for
   * anything else: the request is refused whatever it says.
   */
  private void describeStart(ByteBuf in, HttpRequest refused) {
    int from = in.readerIndex();
    int end = in.writerIndex();
    while (from < end && (in.getByte(from) == '\r' || in.getByte(from) == '\n')) {
      from++;
    }
    int lineEnd = in.indexOf(from, end, (byte) '\r');
    int methodEnd = lineEnd < 0 ? -1 : in.indexOf(from, lineEnd, (byte) ' ');
    int targetEnd = methodEnd < 0 ? -1 : in.indexOf(methodEnd + 1, lineEnd, (byte) ' ');
    if (targetEnd <= methodEnd + 1 || methodEnd == from) {
      return;
    }
    for (int i = from; i < methodEnd; i++) {
      if (!HeadParser.TCHAR[in.getByte(i) & 0xff]) {
        return;
      }
    }
    refused.setMethod(HttpMethod.valueOf(in.toString(from, methodEnd - from, StandardCharsets.ISO_8859_1)));
    refused.setUri(in.toString(methodEnd + 1, targetEnd - methodEnd - 1, StandardCharsets.ISO_8859_1));
    int fieldsStart = lineEnd + 2;
    int line = fieldsStart;
    while (line < end) {
      int cr = in.indexOf(line, end, (byte) '\r');
      if (cr < 0 || cr == line || cr + 2 - fieldsStart > maxFieldBytes) {
        return;
      }
      if (cr - line > 5 && HeadParser.equalsLowerCase(in, line, 5, "host:")) {
        refused.headers().set(io.netty.handler.codec.http.HttpHeaderNames.HOST,
            in.toString(line + 5, cr - line - 5, StandardCharsets.ISO_8859_1).strip());
        return;
      }
      line = cr + 2;
    }
  }

  private static HttpRequest invalid(Throwable cause) {
    DefaultFullHttpRequest request =
        new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/bad-request", Unpooled.EMPTY_BUFFER);
    request.setDecoderResult(DecoderResult.failure(cause));
    return request;
  }

  private static HttpVersion version(HttpHead head) {
    if (head.majorVersion() == 1 && head.minorVersion() == 1) {
      return HttpVersion.HTTP_1_1;
    }
    if (head.majorVersion() == 1 && head.minorVersion() == 0) {
      return HttpVersion.HTTP_1_0;
    }
    return new HttpVersion("HTTP", head.majorVersion(), head.minorVersion(), false);
  }

  private static final HttpMethod[] KNOWN = {
    HttpMethod.GET, HttpMethod.POST, HttpMethod.HEAD, HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.OPTIONS,
    HttpMethod.PATCH, HttpMethod.CONNECT, HttpMethod.TRACE,
  };

  /** The method, shared when it is a standard one (methods are case-sensitive, RFC 9110 §9.1). */
  static HttpMethod method(byte[] bytes, int from, int to) {
    for (HttpMethod known : KNOWN) {
      String name = known.name();
      if (name.length() == to - from && name.charAt(0) == bytes[from] && UpstreamResponse.sameBytes(bytes, from, name)) {
        return known;
      }
    }
    return HttpMethod.valueOf(new String(bytes, from, to - from, StandardCharsets.ISO_8859_1));
  }
}
