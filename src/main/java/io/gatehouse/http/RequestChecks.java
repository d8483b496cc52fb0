package io.gatehouse.http;

import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.util.List;

/**
 * Checks on a decoded request head that decide whether it may be forwarded at all. Returns the
 * refusal as a {@link Refusal}, or null when the request is acceptable.
 */
public final class RequestChecks {
  /** A refused request: the reason (and so the status) and a human-readable detail. */
  public record Refusal(Reason reason, String detail) {}

  /**
   * RFC 9110 §9.3.6: a CONNECT request has no content; whatever follows its head is the tunnel's.
   * One that declares a body is ambiguous (is what follows the body, or the tunnel's first bytes?):
   * refused, and the connection closed.
   */
  private static final Refusal CONNECT_WITH_CONTENT = new Refusal(Reason.MALFORMED, "CONNECT with content");

  private RequestChecks() {}

  /**
   * @param maxHeaderFields more fields than this is 431 (a head of many tiny fields is within the
   *     byte limit, and each field costs the proxy and every server behind it)
   */
  public static Refusal check(HttpRequest request, long maxBodyBytes, int maxHeaderFields) {
    if (request.decoderResult().isFailure()) {
      return decoderFailure(request.decoderResult().cause());
    }
    HttpVersion version = request.protocolVersion();
    if (version.majorVersion() != 1 || version.minorVersion() > 1) {
      return new Refusal(Reason.UNSUPPORTED_VERSION, "HTTP version " + version.text());
    }
    int fields = request instanceof ClientRequest received ? received.head().fieldCount() : request.headers().size();
    if (fields > maxHeaderFields) {
      return new Refusal(Reason.HEADERS_TOO_LARGE, fields + " header fields (limit " + maxHeaderFields + ")");
    }
    if (request instanceof ClientRequest) {
      return check((ClientRequest) request, maxBodyBytes);
    }
    HttpHeaders headers = request.headers();
    List<String> hosts = headers.getAll(HttpHeaderNames.HOST);
    // RFC 9112 §3.2: exactly one Host in HTTP/1.1; more than one is always an error.
    if (hosts.size() > 1) {
      return new Refusal(Reason.MALFORMED, "more than one Host header");
    }
    if (hosts.isEmpty() && version.minorVersion() == 1) {
      return new Refusal(Reason.MALFORMED, "missing Host header");
    }
    if (hosts.size() == 1 && !HostSyntax.valid(hosts.get(0))) {
      return new Refusal(Reason.MALFORMED, "invalid Host header");
    }
    List<String> codings = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
    String declared = headers.get(HttpHeaderNames.CONTENT_LENGTH);
    if (HttpMethod.CONNECT.equals(request.method()) && (!codings.isEmpty() || (declared != null && !"0".equals(declared.trim())))) {
      return CONNECT_WITH_CONTENT;
    }
    if (!codings.isEmpty()) {
      // RFC 9112 §6.1: only chunked is relayed; anything else cannot be framed safely.
      if (codings.size() != 1 || !HttpHeaderValues.CHUNKED.contentEqualsIgnoreCase(codings.get(0).trim())) {
        return new Refusal(Reason.NOT_IMPLEMENTED, "transfer coding " + String.join(", ", codings));
      }
    }
    String length = headers.get(HttpHeaderNames.CONTENT_LENGTH);
    if (length != null && Long.parseLong(length) > maxBodyBytes) {
      return new Refusal(Reason.BODY_TOO_LARGE, "body of " + length + " bytes (limit " + maxBodyBytes + ")");
    }
    return null;
  }

  /** The same checks read from the head's facts and fields, without header objects. */
  private static Refusal check(ClientRequest request, long maxBodyBytes) {
    HttpHead head = request.head();
    // RFC 9112 §3.2: exactly one Host in HTTP/1.1; more than one is always an error.
    if (head.hostCount() > 1) {
      return new Refusal(Reason.MALFORMED, "more than one Host header");
    }
    if (head.hostCount() == 0 && head.minorVersion() == 1) {
      return new Refusal(Reason.MALFORMED, "missing Host header");
    }
    if (head.hostCount() == 1 && !HostSyntax.valid(request.get(HttpHeaderNames.HOST))) {
      return new Refusal(Reason.MALFORMED, "invalid Host header");
    }
    if (HttpMethod.CONNECT.equals(request.method()) && (head.hasTransferEncoding() || head.contentLength() > 0)) {
      return CONNECT_WITH_CONTENT;
    }
    if (head.hasTransferEncoding() && !head.onlyChunked()) {
      // RFC 9112 §6.1: only chunked is relayed; anything else cannot be framed safely.
      return new Refusal(Reason.NOT_IMPLEMENTED,
          "transfer coding " + String.join(", ", request.headers().getAll(HttpHeaderNames.TRANSFER_ENCODING)));
    }
    if (head.contentLength() > maxBodyBytes) {
      return new Refusal(Reason.BODY_TOO_LARGE,
          "body of " + head.contentLength() + " bytes (limit " + maxBodyBytes + ")");
    }
    return null;
  }

  /**
   * Whether the request is a gRPC call ({@code content-type: application/grpc}, with or without a
   * {@code +proto}/{@code +json} suffix): its body is a stream of messages that the server may
   * answer one by one while the client still sends (bidirectional streaming), so it is never held
   * back to be buffered.
   */
  public static boolean isGrpc(HttpRequest request) {
    String type = MessageFields.of(request).get(io.netty.handler.codec.http.HttpHeaderNames.CONTENT_TYPE);
    return type != null && type.regionMatches(true, 0, "application/grpc", 0, 16)
        && (type.length() == 16 || type.charAt(16) == '+' || type.charAt(16) == ';');
  }

  /**
   * Whether the client lets its connection stay open after this request (RFC 9112 §9.3): HTTP/1.1
   * unless {@code Connection: close}, HTTP/1.0 only with {@code Connection: keep-alive}. An HTTP/2
   * stream's request has no connection options (RFC 9113 §8.2.2): always true.
   */
  public static boolean keepsConnection(HttpRequest request) {
    int flags = request instanceof ClientRequest received ? received.hopByHopFlags() : HopByHop.scan(request.headers());
    return HopByHop.keepAlive(flags, request.protocolVersion().equals(HttpVersion.HTTP_1_0));
  }

  /** Whether the request asks for {@code 100-continue} before sending its body (RFC 9110 §10.1.1). */
  public static boolean expectsContinue(HttpRequest request) {
    return request instanceof ClientRequest ? ((ClientRequest) request).expectsContinue()
        : HttpUtil.is100ContinueExpected(request);
  }

  private static Refusal decoderFailure(Throwable cause) {
    if (cause instanceof TooLongHttpLineException) {
      return new Refusal(Reason.URI_TOO_LONG, "request line too long");
    }
    if (cause instanceof TooLongHttpHeaderException || cause instanceof TooLongFrameException) {
      return new Refusal(Reason.HEADERS_TOO_LARGE, "request head too large");
    }
    String message = cause == null ? null : cause.getMessage();
    return new Refusal(Reason.MALFORMED, message == null ? "malformed request" : sanitize(message));
  }

  /** Keeps a decoder message printable and short: it goes back to the client. */
  private static String sanitize(String message) {
    StringBuilder sb = new StringBuilder(Math.min(message.length(), 200));
    for (int i = 0; i < message.length() && sb.length() < 200; i++) {
      char c = message.charAt(i);
      sb.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return sb.toString();
  }

  /** Whether a successfully decoded request says a body follows (chunked, or a length above 0). */
  public static boolean announcesBody(HttpRequest request) {
    if (request instanceof ClientRequest) {
      HttpHead head = ((ClientRequest) request).head();
      return head.hasTransferEncoding() || head.contentLength() > 0;
    }
    if (HttpUtil.isTransferEncodingChunked(request)) {
      return true;
    }
    String length = request.headers().get(HttpHeaderNames.CONTENT_LENGTH);
    return length != null && !"0".equals(length.trim());
  }
}
