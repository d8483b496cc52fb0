package io.gatehouse.relay;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;

/**
 * Facts about the request in progress on a client connection, for its access-log record: filled
 * from the head when it arrives, then by the proxy handler as it decides (route, cluster, user,
 * rule, upstream). Confined to the connection's event loop.
 */
public final class RequestInfo {
  /**
   * The access log's version for a request received over HTTP/2, as nginx logs it
   * ({@code $server_protocol}); RFC 9110 §2.5: a minor version 0 is implied where one is needed.
   */
  public static final String HTTP_2 = "HTTP/2.0";

  String method;
  /** The Host header by default; the forward proxy puts the target's host:port here. */
  public String authority;
  String target;
  String protocol;
  String referer;
  String userAgent;
  long startNanos;
  public String route;
  public String cluster;
  public String user;
  public String rule;
  public String upstream;

  private RequestInfo() {}

  /**
   * A request whose head was read (possibly refused by the decoder); its Referer and User-Agent
   * only when {@code withRefererAndUserAgent} (the access log's fields).
   *
   * @param http2 it arrived on an HTTP/2 stream, whose head says HTTP/1.1 (how it goes upstream)
   */
  static RequestInfo of(HttpRequest request, boolean http2, long nowNanos, boolean withRefererAndUserAgent) {
    RequestInfo info = new RequestInfo();
    info.startNanos = nowNanos;
    info.method = request.method().name();
    info.target = request.uri();
    io.gatehouse.http.MessageFields fields = io.gatehouse.http.MessageFields.of(request);
    info.authority = fields.get(HttpHeaderNames.HOST);
    info.protocol = http2 ? HTTP_2 : request.protocolVersion().text();
    if (withRefererAndUserAgent) {
      info.referer = fields.get(HttpHeaderNames.REFERER);
      info.userAgent = fields.get(HttpHeaderNames.USER_AGENT);
    }
    return info;
  }

  /** No head to describe: it timed out, or the client left in the middle of it. */
  static RequestInfo withoutHead(long nowNanos) {
    RequestInfo info = new RequestInfo();
    info.startNanos = nowNanos;
    info.method = "-";
    return info;
  }
}
