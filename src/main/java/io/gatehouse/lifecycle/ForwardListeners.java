package io.gatehouse.lifecycle;

import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigProblem;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.config.ListenerMode;
import io.gatehouse.forward.ForwardProxyHandler;
import io.gatehouse.forward.ForwardSettings;
import io.gatehouse.listener.ProxyHandlerFactory;
import io.gatehouse.metrics.ProxyMetrics;
import io.gatehouse.pool.UpstreamPools;
import io.gatehouse.relay.ConnectionContext;
import io.netty.resolver.dns.DnsAddressResolverGroup;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * Compiles the forward settings (rules, htpasswd users, anonymity, timeouts) of every forward
 * listener into the generation, and builds their handler factories: connections read the settings
 * of the current generation once per request, so a reload applies at their next request.
 */
final class ForwardListeners {
  private final UpstreamPools pools;
  private final DnsAddressResolverGroup resolver;
  private final ProxyMetrics metrics;
  /** Runs bcrypt password checks off the event loops. */
  private final Executor bcrypt;

  ForwardListeners(UpstreamPools pools, DnsAddressResolverGroup resolver, ProxyMetrics metrics, Executor bcrypt) {
    this.pools = pools;
    this.resolver = resolver;
    this.metrics = metrics;
    this.bcrypt = bcrypt;
  }

  /**
   * @param fallback the settings of the generation that binds the listener: read by a connection
   *     accepted on a newly bound listener in the moment before that generation is swapped in
   */
  ProxyHandlerFactory factory(ListenerConfig listener, Supplier<ConnectionContext> context, Supplier<Snapshot> current,
      ForwardSettings fallback) {
    String name = listener.name();
    Supplier<ForwardSettings> settings = () -> {
      ForwardSettings s = current.get().forward().get(name);
      return s != null ? s : fallback;
    };
    return timeouts -> new ForwardProxyHandler(context, timeouts, settings, pools);
  }

  /**
   * Compiles every forward listener of {@code config}; all or nothing, so a bad htpasswd file
   * leaves the running generation in place.
   */
  Map<String, ForwardSettings> compile(GatehouseConfig config) throws ConfigException {
    Map<String, ForwardSettings> compiled = new HashMap<>();
    List<ConfigProblem> problems = new ArrayList<>();
    for (int i = 0; i < config.listeners().size(); i++) {
      ListenerConfig lc = config.listeners().get(i);
      if (lc.mode() == ListenerMode.FORWARD) {
        try {
          compiled.put(lc.name(), ForwardSettings.compile(lc, resolver, metrics, bcrypt,
              config.limits().idleTimeout().toNanos()));
        } catch (RuntimeException e) { // the htpasswd file changed since validation
          String file = config.source() == null ? "<embedded>" : config.source().toString();
          problems.add(new ConfigProblem(file, 0, 0, "listeners[" + i + "].forward.auth.users", e.getMessage()));
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return Map.copyOf(compiled);
  }
}
