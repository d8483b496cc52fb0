package io.gatehouse.lifecycle;

import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.ListenerConfig;
import io.gatehouse.config.ListenerMode;
import io.gatehouse.config.PerClientLimits;
import io.gatehouse.forward.ForwardSettings;
import io.gatehouse.listener.ListenerSettings;
import io.gatehouse.listener.ProxyHandlerFactory;
import io.gatehouse.pool.UpstreamPools;
import io.gatehouse.ratelimit.RateLimiter;
import io.gatehouse.relay.ConnectionContext;
import io.gatehouse.relay.ExchangeObserver;
import io.gatehouse.reverse.ReverseProxyHandler;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Compiles every listener's part of a generation ({@link CompiledListener}): TLS contexts (files
 * are read here, so a bad certificate refuses the reload before anything changes; unchanged ones
 * are kept, {@link ServerTlsCache}), the connection
 * context its requests read, and its handler factory. Connections find their listener's entry in
 * the current {@link Snapshot} by {@link ListenerKey}: a new connection takes the connection
 * settings, each request the request settings. The per-client request limiter is long-lived state:
 * a generation that keeps the limit keeps the limiter, so a reload does not refill every client's
 * bucket. Called by one thread at a time (the change lock of {@link Generations}).
 */
final class ListenerCompiler {
  private final Supplier<Snapshot> current;
  private final UpstreamPools pools;
  private final ForwardListeners forward;
  private final LongSupplier clock;
  private final ServerTlsCache tlsContexts = new ServerTlsCache();

  ListenerCompiler(Supplier<Snapshot> current, UpstreamPools pools, ForwardListeners forward, LongSupplier clock) {
    this.current = current;
    this.pools = pools;
    this.forward = forward;
    this.clock = clock;
  }

  /**
   * @param keys the socket of every listener of {@code config}, by name ({@link ListenerSet.Plan#keys})
   * @param forwardSettings the generation's compiled forward settings, each forward listener's
   *     fallback for a connection accepted before the generation is swapped in
   */
  Map<ListenerKey, CompiledListener> compile(GatehouseConfig config, Map<String, ListenerKey> keys,
      Map<String, ForwardSettings> forwardSettings, ExchangeObserver observer) throws Exception {
    RateLimiter rate = perClientRate(config.limits().perClient());
    Map<ListenerKey, CompiledListener> compiled = new HashMap<>();
    ServerTlsCache.Round tls = tlsContexts.round();
    for (ListenerConfig lc : config.listeners()) {
      ListenerKey key = keys.get(lc.name());
      ConnectionContext requests = new ConnectionContext(lc.name(), lc.tls() != null, config.limits().maxBodyBytes(),
          observer, clock, rate, config.limits().idleTimeout().toNanos(), config.limits().requestBufferBytes(),
          config.limits().maxHeaderFields());
      Supplier<ConnectionContext> perRequest = () -> {
        CompiledListener now = current.get().listeners().get(key);
        return now != null ? now.requests() : requests; // before the swap (a new listener) or after its removal
      };
      // TLS files are read here, before anything changes: a bad certificate refuses the reload. An
      // unchanged listener keeps its contexts, and with them its clients' TLS sessions.
      compiled.put(key, new CompiledListener(new ListenerSettings(lc, config.limits(), tls.forListener(lc),
          handlers(lc, perRequest, forwardSettings.get(lc.name()))), requests));
    }
    tls.done();
    return Map.copyOf(compiled);
  }

  private ProxyHandlerFactory handlers(ListenerConfig lc, Supplier<ConnectionContext> requests, ForwardSettings fallback) {
    if (lc.mode() == ListenerMode.REVERSE) {
      return timeouts -> new ReverseProxyHandler(requests, timeouts, () -> current.get().routing(), pools, lc.headers());
    }
    return forward.factory(lc, requests, current, fallback);
  }

  /**
   * The running generation's limiter (and its buckets) while the limit stays; a new one when it
   * changes. Taken from the running generation, not kept aside, so a reload that fails after this
   * leaves nothing behind that a later one could pick up.
   */
  private RateLimiter perClientRate(PerClientLimits wanted) {
    if (wanted == null || wanted.requestsPerSecond() <= 0) {
      return null;
    }
    Snapshot running = current.get();
    PerClientLimits had = running == null ? null : running.config().limits().perClient();
    if (had != null && had.requestsPerSecond() == wanted.requestsPerSecond() && burst(had) == burst(wanted)) {
      for (CompiledListener listener : running.listeners().values()) {
        if (listener.requests().perClient() != null) {
          return listener.requests().perClient();
        }
      }
    }
    return new RateLimiter(wanted.requestsPerSecond(), burst(wanted));
  }

  private static int burst(PerClientLimits limits) {
    return Math.max(1, limits.burst());
  }
}
