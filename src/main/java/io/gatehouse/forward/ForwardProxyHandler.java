package io.gatehouse.forward;

import io.gatehouse.http.ClientIdentity;
import io.gatehouse.http.ClientRequest;
import io.gatehouse.http.ClientTimeouts;
import io.gatehouse.http.MessageFields;
import io.gatehouse.http.Reason;
import io.gatehouse.pool.UpstreamPools;
import io.gatehouse.relay.ConnectionContext;
import io.gatehouse.relay.ExchangeSettings;
import io.gatehouse.relay.ProxyConnectionHandler;
import io.gatehouse.relay.RequestInfo;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.concurrent.Future;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Terminal handler of a forward listener's client connection. For each request: parse the target
 * (absolute-form, or authority-form for CONNECT), authenticate, apply the access policy, resolve the
 * destination asynchronously, refuse loops and private destinations, then relay it (HTTP) or open a
 * tunnel (CONNECT, see {@link ConnectTunnel}).
 *
 * <p>Authentication and DNS may complete later on this channel's event loop; nothing else is read
 * from the client meanwhile (autoRead is off), and a client gone by then is simply dropped.
 */
public final class ForwardProxyHandler extends ProxyConnectionHandler {
  /** Rule name reported when a CONNECT port is not in {@code connectPorts}. */
  static final String CONNECT_PORTS_RULE = "connect-ports";
  /** Rule name reported when the destination resolves only to private addresses. */
  static final String PRIVATE_DESTINATION_RULE = "private-destination";
  static final String DENIED_HEADER = "X-Gatehouse-Denied";
  /**
   * A request that already passed this many proxies is taken to be looping between proxies (each
   * adds itself to Via, RFC 9110 §7.6.3); direct loops are caught by address before this.
   */
  static final int MAX_VIA_HOPS = 16;

  private final Supplier<ForwardSettings> currentSettings;
  private final UpstreamPools pools;
  /**
   * Settings of the config generation in force when the current request arrived, read once per
   * request so that a reload never changes the rules half-way. Event-loop confined.
   */
  private ForwardSettings settings;

  public ForwardProxyHandler(
      Supplier<ConnectionContext> context, ClientTimeouts timeouts, Supplier<ForwardSettings> settings,
      UpstreamPools pools) {
    super(context, timeouts);
    this.currentSettings = settings;
    this.pools = pools;
  }

  @Override
  protected void handleRequest(HttpRequest request, RequestInfo info) {
    settings = currentSettings.get();
    long startNanos = clock().getAsLong();
    boolean connect = HttpMethod.CONNECT.equals(request.method());
    ForwardTarget.Parsed parsed = connect ? ForwardTarget.connect(request.uri()) : ForwardTarget.absolute(targetUri(request), HttpMethod.OPTIONS.equals(request.method()));
    if (parsed.target() == null) {
      Reason reason = parsed.problem() == ForwardTarget.Problem.UNSUPPORTED_SCHEME ? Reason.NOT_IMPLEMENTED : Reason.MALFORMED;
      reply(reason, parsed.detail(), connect || expectsContinue(request));
      return;
    }
    ForwardTarget target = parsed.target();
    info.authority = target.authority();
    if (viaHops(request) > MAX_VIA_HOPS) {
      reply(Reason.LOOP_DETECTED, "more than " + MAX_VIA_HOPS + " proxies in Via", closes(request));
      return;
    }
    if (settings.auth() == null) {
      authorized(request, info, target, startNanos);
      return;
    }
    String credentials = MessageFields.of(request).get(HttpHeaderNames.PROXY_AUTHORIZATION);
    String user = settings.auth().cachedUser(credentials);
    if (user != null) {
      info.user = user;
      authorized(request, info, target, startNanos);
      return;
    }
    if (credentials == null) {
      authRequired(request, "proxy authentication required");
      return;
    }
    settings.auth().verify(credentials, downstream.eventLoop(), (outcome, verifiedUser) -> {
      if (!downstream.isActive()) {
        return;
      }
      switch (outcome) {
        case OK -> {
          info.user = verifiedUser;
          authorized(request, info, target, startNanos);
        }
        case OVERLOADED -> reply(Reason.OVERLOADED, "too many logins being verified", closes(request));
        default -> authRequired(request, "wrong proxy credentials");
      }
    });
  }

  /**
   * The absolute URI a request names. HTTP/2 has no absolute-form: a request to a proxy names its
   * target by {@code :scheme}, {@code :authority} (the head's {@code Host}) and {@code :path}
   * (RFC 9113 §8.3.1), which make the same URI and go through the same checks.
   */
  private static String targetUri(HttpRequest request) {
    if (request instanceof ClientRequest h2 && h2.http2Scheme() != null) {
      String authority = MessageFields.of(request).get(HttpHeaderNames.HOST);
      // An OPTIONS's :path of "*" (RFC 9113 §8.3.1) is the URI without a path (RFC 9112 §3.2.4).
      String path = "*".equals(request.uri()) && HttpMethod.OPTIONS.equals(request.method()) ? "" : request.uri();
      return h2.http2Scheme() + "://" + (authority == null ? "" : authority) + path;
    }
    return request.uri();
  }

  /** 407 (RFC 9110 §15.5.8) with the challenge of §11.7.1. */
  private void authRequired(HttpRequest request, String detail) {
    String challenge = "Basic realm=\"" + settings.auth().realm() + "\", charset=\"UTF-8\"";
    reply(Reason.AUTH_REQUIRED, detail, closes(request),
        response -> response.headers().set(HttpHeaderNames.PROXY_AUTHENTICATE, challenge));
  }

  private void authorized(HttpRequest request, RequestInfo info, ForwardTarget target, long startNanos) {
    boolean connect = HttpMethod.CONNECT.equals(request.method());
    AccessDecision decision = settings.policy().decide(new AccessPolicy.Request(
        client.address(), target.host(), target.port(), request.method().name(), info.user));
    info.rule = decision.rule();
    if (decision instanceof AccessDecision.Deny deny) {
      deny(request, info, deny.rule(), "denied by rule '" + deny.rule() + "'");
      return;
    }
    if (connect && !settings.connectPorts().contains(target.port())) {
      deny(request, info, CONNECT_PORTS_RULE, "CONNECT to port " + target.port() + " (allowed: "
          + new java.util.TreeSet<>(settings.connectPorts()) + ")");
      return;
    }
    if (!connect && answeredAsFinalRecipient(request)) {
      return;
    }
    boolean destinationListed = ((AccessDecision.Allow) decision).destinationListed();
    InetAddress literal = UpstreamPools.ipLiteral(target.host());
    if (literal != null) { // the resolver would answer an IP literal with itself, only at more cost
      onResolved(request, info, target, List.of(new InetSocketAddress(literal, target.port())), destinationListed,
          startNanos);
      return;
    }
    Future<List<InetSocketAddress>> resolved = settings.resolver().getResolver(downstream.eventLoop())
        .resolveAll(InetSocketAddress.createUnresolved(target.host(), target.port()));
    resolved.addListener(f -> {
      if (!downstream.isActive()) {
        return;
      }
      if (!f.isSuccess() || resolved.getNow().isEmpty()) {
        reply(Reason.UPSTREAM_CONNECT_FAILED, "cannot resolve " + target.host(), closes(request));
        return;
      }
      onResolved(request, info, target, resolved.getNow(), destinationListed, startNanos);
    });
  }

  private void onResolved(HttpRequest request, RequestInfo info, ForwardTarget target,
      List<InetSocketAddress> addresses, boolean destinationListed, long startNanos) {
    if (isThisProxy(addresses)) {
      reply(Reason.LOOP_DETECTED, "request addressed to the proxy itself", closes(request));
      return;
    }
    List<InetSocketAddress> usable = addresses;
    if (settings.blockPrivateDestinations() && !destinationListed) {
      usable = new ArrayList<>(addresses.size());
      for (InetSocketAddress a : addresses) {
        if (!PrivateAddresses.isPrivate(a.getAddress())) {
          usable.add(a);
        }
      }
      if (usable.isEmpty()) {
        deny(request, info, PRIVATE_DESTINATION_RULE,
            target.host() + " resolves to a private address (allow it with a rule listing the host)");
        return;
      }
    }
    if (HttpMethod.CONNECT.equals(request.method())) {
      ConnectTunnel.open(downstream, this, context, settings, pools, request, info.user, info.rule, target, usable, startNanos);
      return;
    }
    request.setUri(target.originForm()); // RFC 9112 §3.2.1: origins get origin-form (§3.2.4: or "*")
    // RFC 9112 §3.2.2: the proxy replaces Host with the target URI's authority (userinfo dropped).
    MessageFields fields = MessageFields.of(request);
    fields.set(HttpHeaderNames.HOST, target.hostHeader());
    IdentityHeaders.apply(fields, client.address(),
        settings.anonymize(), settings.forwardedHeader(), ClientIdentity.via(request.protocolVersion(), http2));
    startExchange(request, new OriginConnector(downstream.eventLoop(), pools, usable, settings),
        new ExchangeSettings(settings.responseTimeoutNanos(), context.maxBodyBytes(),
            !settings.anonymize(), clock()));
  }

  private static int viaHops(HttpRequest request) {
    int hops = 0;
    for (String via : MessageFields.of(request).getAll(HttpHeaderNames.VIA)) {
      hops++;
      for (int i = 0; i < via.length(); i++) {
        if (via.charAt(i) == ',') {
          hops++;
        }
      }
    }
    return hops;
  }

  /** The listener's own port on one of this host's addresses: relaying would loop (RFC 9110 §7.6.3). */
  private boolean isThisProxy(List<InetSocketAddress> addresses) {
    InetSocketAddress local = (InetSocketAddress) downstream.localAddress();
    for (InetSocketAddress a : addresses) {
      if (a.getPort() != local.getPort()) {
        continue;
      }
      InetAddress ip = a.getAddress();
      if (ip.isLoopbackAddress() || ip.isAnyLocalAddress() || ip.equals(local.getAddress()) || isLocalInterface(ip)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isLocalInterface(InetAddress ip) {
    try {
      return java.net.NetworkInterface.getByInetAddress(ip) != null;
    } catch (java.net.SocketException e) {
      return false;
    }
  }

  private void deny(HttpRequest request, RequestInfo info, String rule, String detail) {
    info.rule = rule;
    settings.metrics().forwardDenied(rule);
    reply(Reason.DENIED, detail, closes(request), response -> response.headers().set(DENIED_HEADER, rule));
  }

  /**
   * A refused CONNECT closes the connection: the client may already have sent tunnel bytes, which
   * must never be read as HTTP. Otherwise only an unanswered 100-continue forces a close.
   */
  private static boolean closes(HttpRequest request) {
    return HttpMethod.CONNECT.equals(request.method()) || expectsContinue(request);
  }

  /** For {@link ConnectTunnel}: the tunnel's upstream could not be reached. */
  void tunnelFailed(Reason reason, String detail) {
    reply(reason, detail, true);
  }
}
