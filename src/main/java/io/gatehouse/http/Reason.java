package io.gatehouse.http;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Why an exchange ended the way it did: the access log's {@code outcome} and the
 * {@code reason} label of {@code gatehouse_local_replies_total}. Local replies carry their status.
 */
public enum Reason {
  OK(null, false),
  MALFORMED(HttpResponseStatus.BAD_REQUEST, true),
  /** RFC 9110 §15.5.15's name (Netty's constant has RFC 2616's "Request-URI Too Long"). */
  URI_TOO_LONG(HttpResponseStatus.valueOf(414, "URI Too Long"), true),
  HEADERS_TOO_LARGE(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, true),
  HEADER_TIMEOUT(HttpResponseStatus.REQUEST_TIMEOUT, true),
  BODY_TIMEOUT(HttpResponseStatus.REQUEST_TIMEOUT, true),
  /**
   * The client sent its body, or read its response, slower than the minimum rate: 408 while no
   * response has started, otherwise the connection is cut (and still counted under this reason).
   */
  CLIENT_TOO_SLOW(HttpResponseStatus.REQUEST_TIMEOUT, true),
  /** RFC 9110 §15.5.14's name (Netty's constant has RFC 2616's "Request Entity Too Large"). */
  BODY_TOO_LARGE(HttpResponseStatus.valueOf(413, "Content Too Large"), true),
  UNSUPPORTED_VERSION(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED, true),
  NOT_IMPLEMENTED(HttpResponseStatus.NOT_IMPLEMENTED, true),
  NO_ROUTE(HttpResponseStatus.NOT_FOUND, false),
  /**
   * A TRACE or OPTIONS with {@code Max-Forwards: 0}, answered by the proxy as its final recipient
   * (RFC 9110 §7.6.2): a 200 that no upstream saw.
   */
  MAX_FORWARDS(HttpResponseStatus.OK, false),
  DENIED(HttpResponseStatus.FORBIDDEN, false),
  AUTH_REQUIRED(HttpResponseStatus.PROXY_AUTHENTICATION_REQUIRED, false),
  LOOP_DETECTED(HttpResponseStatus.valueOf(508, "Loop Detected"), false),
  RATE_LIMITED(HttpResponseStatus.TOO_MANY_REQUESTS, false),
  NO_ENDPOINT(HttpResponseStatus.SERVICE_UNAVAILABLE, false),
  OVERLOADED(HttpResponseStatus.SERVICE_UNAVAILABLE, false),
  UPSTREAM_CONNECT_FAILED(HttpResponseStatus.BAD_GATEWAY, false),
  UPSTREAM_RESET(HttpResponseStatus.BAD_GATEWAY, false),
  UPSTREAM_BAD_RESPONSE(HttpResponseStatus.BAD_GATEWAY, false),
  UPSTREAM_TIMEOUT(HttpResponseStatus.GATEWAY_TIMEOUT, false),
  CLIENT_ABORTED(null, true),
  /** Still in progress when a graceful stop's {@code limits.drainTimeout} ran out: cut by the proxy. */
  DRAIN_DEADLINE(null, true);

  private final HttpResponseStatus status;
  private final boolean closesConnection;
  private final String label;

  Reason(HttpResponseStatus status, boolean closesConnection) {
    this.status = status;
    this.closesConnection = closesConnection;
    this.label = name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Status of the local reply; null when this reason sends none. */
  public HttpResponseStatus status() {
    return status;
  }

  /** Whether the client connection is closed after the reply (framing can no longer be trusted). */
  public boolean closesConnection() {
    return closesConnection;
  }

  /** Lower-case name used in logs and metric labels. */
  public String label() {
    return label;
  }
}
