package io.gatehouse.health;

import io.gatehouse.config.HealthCheckConfig;
import io.gatehouse.config.HostPort;
import io.gatehouse.upstream.Cluster;
import io.gatehouse.upstream.Endpoint;
import io.gatehouse.upstream.EndpointState;
import io.gatehouse.upstream.Health;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.EventLoop;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the active health checks of every cluster that has a {@code healthCheck}: one {@link
 * EndpointProbe} per endpoint address, pinned to an event loop chosen by the address, so probes
 * never block and never need a thread of their own.
 *
 * <p>Probes are keyed by address, like {@link EndpointState}, so a reload keeps the streaks and the
 * health of endpoints that stay: {@link #update} starts probes for new addresses, re-configures
 * kept ones and stops removed ones. An address in two clusters is probed once, with the first
 * cluster's settings (it is one server). An address whose cluster dropped its health check is
 * marked UP, since nothing will ever check it again.
 *
 * <p>{@link #update} and {@link #close} run on the control thread (startup, reload, stop) and are
 * serialized with a lock; the data path never touches this class.
 */
public final class ActiveHealthChecker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ActiveHealthChecker.class);

  private final List<EventLoop> loops;
  private final ProbeConnector connector;
  private final LongSupplier clock;
  private final Map<HostPort, EndpointProbe> probes = new HashMap<>();
  private boolean closed;

  /**
   * @param template transport, options and resolver of upstream connections; its handler is
   *     replaced per probe
   * @param clock {@code System::nanoTime} in production
   */
  public ActiveHealthChecker(List<EventLoop> loops, Bootstrap template, LongSupplier clock) {
    this(loops, ProbeConnector.plain(template), clock);
  }

  /** @param connector how probes connect: the pools' connect path, with each cluster's TLS */
  public ActiveHealthChecker(List<EventLoop> loops, ProbeConnector connector, LongSupplier clock) {
    if (loops.isEmpty()) {
      throw new IllegalArgumentException("loops: empty (expected: at least one event loop)");
    }
    this.loops = List.copyOf(loops);
    this.connector = connector;
    this.clock = clock;
  }

  /** Makes the running probes match {@code clusters} (the new config generation). */
  public synchronized void update(Collection<Cluster> clusters) {
    if (closed) {
      return;
    }
    Map<HostPort, HealthCheckConfig> wanted = new LinkedHashMap<>();
    Map<HostPort, EndpointState> states = new HashMap<>();
    Set<HostPort> unchecked = new HashSet<>();
    for (Cluster cluster : clusters) {
      HealthCheckConfig hc = cluster.healthCheck();
      for (Endpoint e : cluster.endpoints()) {
        states.put(e.address(), e.state());
        if (hc != null) {
          wanted.putIfAbsent(e.address(), hc);
        } else {
          unchecked.add(e.address());
        }
      }
    }
    for (var it = probes.entrySet().iterator(); it.hasNext(); ) {
      var entry = it.next();
      HostPort address = entry.getKey();
      EndpointProbe probe = entry.getValue();
      EndpointState state = states.get(address);
      if (!wanted.containsKey(address) || state != probe.state()) {
        probe.stop();
        it.remove();
        if (!wanted.containsKey(address) && unchecked.contains(address) && state.health() != Health.UP) {
          state.setHealth(Health.UP, clock.getAsLong()); // no check will ever bring it back
        }
      }
    }
    int started = 0;
    for (var entry : wanted.entrySet()) {
      HostPort address = entry.getKey();
      EndpointProbe probe = probes.get(address);
      if (probe != null) {
        probe.update(entry.getValue());
        continue;
      }
      probe = new EndpointProbe(address, states.get(address), entry.getValue(), loopFor(address), connector, clock);
      probes.put(address, probe);
      probe.start();
      started++;
    }
    if (started > 0 || !probes.isEmpty()) {
      log.info("health checks: {} endpoints probed ({} new)", probes.size(), started);
    }
  }

  /** Addresses being probed now. */
  public synchronized Set<HostPort> probedAddresses() {
    return Set.copyOf(probes.keySet());
  }

  /** Stops every probe. */
  @Override
  public synchronized void close() {
    closed = true;
    probes.values().forEach(EndpointProbe::stop);
    probes.clear();
  }

  private EventLoop loopFor(HostPort address) {
    return loops.get(Math.floorMod(address.hashCode(), loops.size()));
  }
}
