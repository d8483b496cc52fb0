package io.gatehouse.fleet;

import io.gatehouse.config.RateLimitConfig;
import io.gatehouse.metrics.ProxyMetrics;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether each fleet rate limit counts in Redis ({@code fleet}) or applies its {@code onStoreDown}
 * behaviour ({@code allow}, {@code deny}, {@code local}), exported as
 * {@code gatehouse_ratelimit_store_mode{route,mode}} (1 for the mode in use, 0 for the other).
 * One log line per change of mode and route, never one per request.
 */
public final class StoreModes {
  private static final Logger log = LoggerFactory.getLogger(StoreModes.class);
  private final Map<String, Mode> routes = new ConcurrentHashMap<>();

  /** Registers the metric; the values are read at scrape time. */
  public StoreModes(ProxyMetrics metrics) {
    metrics.gaugeFamily("gatehouse_ratelimit_store_mode",
        "1 for how a fleet rate limit counts now: fleet (in Redis) or its onStoreDown mode (allow, deny, local)",
        new String[] {"route", "mode"}, sink -> routes.values().forEach(m -> {
          sink.accept(m.degraded.get() ? 0 : 1, m.route, "fleet");
          sink.accept(m.degraded.get() ? 1 : 0, m.route, m.downMode);
        }));
    metrics.gaugeFamily("gatehouse_ratelimit_waiting",
        "Requests of a route with a fleet rate limit parked now, waiting for a lease from Redis",
        new String[] {"route"}, sink -> routes.values().forEach(m -> sink.accept(m.waiting.get(), m.route)));
  }

  /** A route's mode; a limiter replaced by a reload takes over its route's entry. */
  Mode register(String route, RateLimitConfig.StoreDown onStoreDown, boolean up) {
    Mode mode = new Mode(route, onStoreDown.name().toLowerCase(Locale.ROOT), !up);
    routes.put(route, mode);
    return mode;
  }

  /** Drops the routes that no longer have a fleet limit (after a reload). */
  public void retain(java.util.Set<String> routesWithFleetLimits) {
    routes.keySet().retainAll(routesWithFleetLimits);
  }

  /** The mode in use for {@code route}: {@code fleet}, its onStoreDown mode, or null without a fleet limit. */
  public String mode(String route) {
    Mode m = routes.get(route);
    return m == null ? null : m.degraded.get() ? m.downMode : "fleet";
  }

  /** One route's mode; changed from any thread, logged once per change. */
  static final class Mode {
    final String route;
    final String downMode;
    final AtomicBoolean degraded;
    /** Requests waiting for a refill from Redis now. */
    final java.util.concurrent.atomic.AtomicInteger waiting = new java.util.concurrent.atomic.AtomicInteger();

    Mode(String route, String downMode, boolean degraded) {
      this.route = route;
      this.downMode = downMode;
      this.degraded = new AtomicBoolean(degraded);
    }

    void degraded(String why) {
      if (degraded.compareAndSet(false, true)) {
        log.warn("rate limit of route '{}': fleet store unavailable ({}), counting mode now onStoreDown: {}",
            route, why, downMode);
      }
    }

    void fleet() {
      if (degraded.compareAndSet(true, false)) {
        log.info("rate limit of route '{}': fleet store reachable, counting in Redis again", route);
      }
    }
  }
}
