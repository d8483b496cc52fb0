package io.gatehouse.lifecycle;

import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigProblem;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.LimitsConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.config.ListenerMode;
import io.gatehouse.forward.ForwardProxyHandler;
import io.gatehouse.forward.ForwardSettings;
import io.gatehouse.listener.ProxyHandlerFactory;
import io.gatehouse.metrics.ProxyMetrics;
import io.gatehouse.pool.UpstreamPools;
import io.gatehouse.relay.ConnectionContext;
import io.netty.channel.Channel;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Builds the handler factories of forward listeners and keeps each listener's compiled settings
 * (rules, htpasswd users) current across reloads: connections read them once per request.
 */
final class ForwardListeners {
  private final UpstreamPools pools;
  private final DnsAddressResolverGroup resolver;
  private final Class<? extends Channel> upstreamChannel;
  private final ProxyMetrics metrics;
  /** Runs bcrypt password checks off the event loops. */
  private final Executor bcrypt;
  /** Written by the starting or reloading thread only; read by event loops through the references. */
  private final Map<String, AtomicReference<ForwardSettings>> settings = new HashMap<>();

  ForwardListeners(UpstreamPools pools, DnsAddressResolverGroup resolver, Class<? extends Channel> upstreamChannel,
      ProxyMetrics metrics, Executor bcrypt) {
    this.pools = pools;
    this.resolver = resolver;
    this.upstreamChannel = upstreamChannel;
    this.metrics = metrics;
    this.bcrypt = bcrypt;
  }

  ProxyHandlerFactory factory(ListenerConfig listener, ConnectionContext context, LimitsConfig limits) {
    // A listener kept across a reload keeps its reference: prepareReload updated what it holds,
    // and connections already open read it per request too.
    AtomicReference<ForwardSettings> ref =
        settings.computeIfAbsent(listener.name(), name -> new AtomicReference<>(compile(listener, limits)));
    return timeouts -> new ForwardProxyHandler(context, timeouts, ref::get, pools);
  }

  /**
   * Compiles the forward settings of every running forward listener in {@code config}; all or
   * nothing, so a bad htpasswd file leaves every listener on its old settings.
   */
  Runnable prepareReload(GatehouseConfig config) throws ConfigException {
    Map<AtomicReference<ForwardSettings>, ForwardSettings> next = new HashMap<>();
    List<ConfigProblem> problems = new ArrayList<>();
    for (int i = 0; i < config.listeners().size(); i++) {
      ListenerConfig lc = config.listeners().get(i);
      AtomicReference<ForwardSettings> ref = settings.get(lc.name());
      if (ref != null && lc.mode() == ListenerMode.FORWARD) {
        try {
          next.put(ref, compile(lc, config.limits()));
        } catch (RuntimeException e) { // the htpasswd file changed since validation
          String file = config.source() == null ? "<embedded>" : config.source().toString();
          problems.add(new ConfigProblem(file, 0, 0, "listeners[" + i + "].forward.auth.users", e.getMessage()));
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return () -> next.forEach(AtomicReference::set);
  }

  private ForwardSettings compile(ListenerConfig listener, LimitsConfig limits) {
    return ForwardSettings.compile(listener, resolver, upstreamChannel, metrics, bcrypt, limits.idleTimeout().toNanos());
  }
}
