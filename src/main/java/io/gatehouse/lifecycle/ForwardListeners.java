package io.gatehouse.lifecycle;

import io.gatehouse.config.ListenerConfig;
import io.gatehouse.http.Reason;
import io.gatehouse.listener.ProxyHandlerFactory;
import io.gatehouse.pool.UpstreamPools;
import io.gatehouse.relay.ConnectionContext;
import io.gatehouse.relay.ProxyConnectionHandler;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import java.util.function.LongSupplier;

/** Builds the handler factory of forward listeners. */
final class ForwardListeners {
  private ForwardListeners() {}

  static ProxyHandlerFactory factory(
      ListenerConfig listener, ConnectionContext context, UpstreamPools pools, DnsAddressResolverGroup resolver,
      LongSupplier clock) {
    // TODO(forward): replaced by forward.ForwardProxyHandler.
    return timeouts -> new ProxyConnectionHandler(context, timeouts) {
      @Override
      protected void handleRequest(HttpRequest request, RequestInfo info) {
        reply(Reason.NOT_IMPLEMENTED, "forward proxying", false);
      }
    };
  }
}
