package io.gatehouse.lifecycle;

import io.gatehouse.config.LimitsConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.forward.ForwardProxyHandler;
import io.gatehouse.forward.ForwardSettings;
import io.gatehouse.listener.ProxyHandlerFactory;
import io.gatehouse.metrics.ProxyMetrics;
import io.gatehouse.pool.UpstreamPools;
import io.gatehouse.relay.ConnectionContext;
import io.netty.channel.Channel;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import java.util.concurrent.Executor;

/** Builds the handler factory of forward listeners. */
final class ForwardListeners {
  private ForwardListeners() {}

  /**
   * Compiles the listener's forward settings once (rules, htpasswd) and returns a factory of
   * handlers sharing them. {@code bcrypt} runs password checks off the event loops.
   */
  static ProxyHandlerFactory factory(
      ListenerConfig listener, ConnectionContext context, UpstreamPools pools, DnsAddressResolverGroup resolver,
      Class<? extends Channel> upstreamChannel, ProxyMetrics metrics, LimitsConfig limits, Executor bcrypt) {
    ForwardSettings settings = ForwardSettings.compile(
        listener, resolver, upstreamChannel, metrics, bcrypt, limits.idleTimeout().toNanos());
    return timeouts -> new ForwardProxyHandler(context, timeouts, settings, pools);
  }
}
