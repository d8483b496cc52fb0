package io.gatehouse.relay;

import io.gatehouse.http.Reason;

/**
 * What the access log and metrics learn about one finished exchange (or local reply).
 *
 * @param route route name, or null (forward proxy, or no route matched)
 * @param cluster cluster name, or null
 * @param upstream endpoint or origin address, {@code -} when none was contacted
 * @param rule forward access rule that decided, or null
 * @param protocol the HTTP version the client spoke ({@code HTTP/1.1}, {@code HTTP/2.0}), or null when no head was read
 * @param referer the {@code Referer} field as received, or null
 * @param userAgent the {@code User-Agent} field as received, or null
 */
public record ExchangeRecord(
    String listener,
    String client,
    String user,
    String method,
    String authority,
    String target,
    String protocol,
    String referer,
    String userAgent,
    int status,
    long bytesIn,
    long bytesOut,
    String route,
    String cluster,
    String upstream,
    String rule,
    long upstreamNanos,
    long totalNanos,
    Reason outcome) {

  /** The record of the request {@code info} describes, at {@code nowNanos}. */
  static ExchangeRecord of(String listener, String client, RequestInfo info, Reason outcome,
      int status, long in, long out, long upstreamNanos, long nowNanos) {
    return new ExchangeRecord(listener, client, info.user, info.method, info.authority, info.target, info.protocol,
        info.referer, info.userAgent, status, in, out, info.route, info.cluster,
        info.upstream == null ? "-" : info.upstream, info.rule, upstreamNanos, nowNanos - info.startNanos, outcome);
  }

  /**
   * The record of a response in flight this record describes up to a hand-off, continued by the
   * successor process that took it over: its response bytes and its time (upstream and total) are
   * added, its outcome is the end's.
   */
  public ExchangeRecord continued(long moreOut, long moreNanos, Reason end) {
    return new ExchangeRecord(listener, client, user, method, authority, target, protocol, referer, userAgent, status,
        bytesIn, bytesOut + moreOut, route, cluster, upstream, rule, upstreamNanos + moreNanos, totalNanos + moreNanos,
        end);
  }

  /**
   * The record of a tunnel this record describes up to a hand-off, continued by the successor
   * process that took it over: its bytes each way and its time are added, its outcome is the end's.
   */
  public ExchangeRecord carriedOn(long moreIn, long moreOut, long moreNanos, Reason end) {
    return new ExchangeRecord(listener, client, user, method, authority, target, protocol, referer, userAgent, status,
        bytesIn + moreIn, bytesOut + moreOut, route, cluster, upstream, rule, upstreamNanos, totalNanos + moreNanos, end);
  }
}
