package io.gatehouse.reverse;

import io.gatehouse.config.ForwardedHeadersConfig;
import io.gatehouse.http.ClientIdentity;
import io.gatehouse.http.ClientTimeouts;
import io.gatehouse.http.Reason;
import io.gatehouse.pool.BoundConnections;
import io.gatehouse.pool.UpstreamPools;
import io.gatehouse.relay.ConnectionContext;
import io.gatehouse.relay.Decision;
import io.gatehouse.ratelimit.Verdict;
import io.gatehouse.relay.ExchangeSettings;
import io.gatehouse.relay.ProxyConnectionHandler;
import io.gatehouse.relay.RequestInfo;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.gatehouse.http.MessageFields;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * Terminal handler of a reverse listener's client connection: matches the route, picks a cluster
 * by weight, rewrites the head for the upstream and starts the exchange. Everything it decides is
 * read from the routing of the current config generation, once per request.
 */
public final class ReverseProxyHandler extends ProxyConnectionHandler {
  private final Supplier<ReverseRouting> routing;
  private final UpstreamPools pools;
  private final ForwardedHeadersConfig headers;
  /** Upstream connections that carry this client's PROXY header, kept for its next requests. */
  private final BoundConnections bound = new BoundConnections();

  public ReverseProxyHandler(
      Supplier<ConnectionContext> context,
      ClientTimeouts timeouts,
      Supplier<ReverseRouting> routing,
      UpstreamPools pools,
      ForwardedHeadersConfig headers) {
    super(context, timeouts);
    this.routing = routing;
    this.pools = pools;
    this.headers = headers;
  }

  @Override
  protected void handleRequest(HttpRequest request, RequestInfo info) {
    if (HttpMethod.CONNECT.equals(request.method())) {
      // Checked before the target: CONNECT's authority-form target is not a reverse target, and
      // the client deserves "not here" (501), not "malformed" (400).
      reply(Reason.NOT_IMPLEMENTED, "CONNECT on a reverse listener", true);
      return;
    }
    RequestTarget target = RequestTarget.of(request);
    if (target == null) {
      reply(Reason.MALFORMED, "bad request target", true);
      return;
    }
    target = target.normalized();
    if (target == null) {
      reply(Reason.MALFORMED, "bad percent-encoding in the path (a % takes two hex digits; %00 is refused)", true);
      return;
    }
    RouteTable table = routing.get().table(context.listenerName());
    Route route = table == null ? null : table.match(target.host(), target.path());
    if (route == null) {
      reply(Reason.NO_ROUTE, "no route for " + target.host() + target.path(), expectsContinue(request));
      return;
    }
    info.route = route.name(); // before the route's rate limit, so a 429 is logged with its route
    if (route.rateLimiter() != null) {
      String key = route.rateLimitKey().of(request, clientIp);
      Verdict verdict = route.rateLimiter().decide(key == null ? "" : key, clock().getAsLong());
      if (verdict != Verdict.ADMIT) {
        // Over the limit, or a fleet limit that asks Redis first: then the request waits, parked.
        RequestTarget normalized = target;
        decide(Decision.of(verdict), request, () -> proceed(request, info, normalized, route));
        return;
      }
    }
    proceed(request, info, target, route);
  }

  private void proceed(HttpRequest request, RequestInfo info, RequestTarget target, Route route) {
    if (answeredAsFinalRecipient(request)) {
      return;
    }
    ClusterRuntime cluster;
    String setCookie = null;
    if (route.cohorts() == null) {
      cluster = route.pickCluster(
          route.totalWeight() <= 1 ? 0 : ThreadLocalRandom.current().nextInt(route.totalWeight()));
    } else {
      CohortSplit.Pick pick = route.cohorts().pick(route, request, clientIp, ThreadLocalRandom.current());
      cluster = pick.cluster();
      setCookie = pick.setCookie();
    }
    info.cluster = cluster.name();
    rewriteHead(request, target, route);

    ClusterConnector connector = new ClusterConnector(
        cluster, route, downstream.eventLoop(), pools, cluster.hashKey(request, clientIp),
        client, bound, isIdempotent(request.method()), clock());
    long timeout = route.responseTimeoutNanos() > 0 ? route.responseTimeoutNanos() : cluster.responseTimeoutNanos();
    startExchange(request, connector,
        new ExchangeSettings(timeout, context.maxBodyBytes(), headers.via(), clock(), cohortCookie(setCookie)));
  }

  @Override
  public void onClosed() {
    bound.close();
    super.onClosed();
  }

  /** The route a refused request would have taken, when its target and Host could be read. */
  @Override
  protected void identify(HttpRequest request, RequestInfo info) {
    if (info.route != null || HttpMethod.CONNECT.equals(request.method())) {
      return;
    }
    RequestTarget target = RequestTarget.of(request);
    // A head cut short by the size limit may lack Host: matching by path alone could name a
    // catch-all route the request would not have taken, so no route is named then.
    if (target == null || target.authority() == null) {
      return;
    }
    target = target.normalized();
    RouteTable table = routing.get().table(context.listenerName());
    Route route = table == null || target == null ? null : table.match(target.host(), target.path());
    if (route != null) {
      info.route = route.name();
    }
  }

  private void rewriteHead(HttpRequest request, RequestTarget target, Route route) {
    MessageFields h = MessageFields.of(request);
    if (!request.uri().equals(target.originForm())) {
      request.setUri(target.originForm()); // origin-form (RFC 9112 §3.2.2), path normalized
    }
    if (target.absoluteForm()) {
      h.set(HttpHeaderNames.HOST, target.authority());
    }
    String originalHost = h.get(HttpHeaderNames.HOST);
    String proto = context.tls() ? "https" : "http";
    if (headers.xForwarded()) {
      ClientIdentity.addXForwarded(h, clientIp, proto, originalHost);
    }
    if (headers.forwarded()) {
      ClientIdentity.addForwarded(h, clientIp, proto, originalHost);
    }
    if (headers.via()) {
      ClientIdentity.addVia(h, ClientIdentity.via(request.protocolVersion(), http2));
    }
    if (route.hostRewrite() != null) {
      h.set(HttpHeaderNames.HOST, route.hostRewrite());
    }
  }

  /** Adds the cohort cookie to the response of a client that had none (RFC 6265 §4.1). */
  private static java.util.function.Consumer<HttpHeaders> cohortCookie(String setCookie) {
    return setCookie == null ? null : h -> h.add(HttpHeaderNames.SET_COOKIE, setCookie);
  }

  /** RFC 9110 §9.2.2. */
  private static boolean isIdempotent(HttpMethod method) {
    return method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD) || method.equals(HttpMethod.PUT)
        || method.equals(HttpMethod.DELETE) || method.equals(HttpMethod.OPTIONS) || method.equals(HttpMethod.TRACE);
  }
}
