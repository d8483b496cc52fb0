package io.gatehouse.lifecycle;

import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.HostPort;
import io.gatehouse.forward.ForwardSettings;
import io.gatehouse.pool.PeerSpec;
import io.gatehouse.reverse.ClusterRuntime;
import io.gatehouse.reverse.ReverseRouting;
import io.gatehouse.upstream.AdminState;
import io.gatehouse.upstream.Cluster;
import io.gatehouse.upstream.Endpoint;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One compiled config generation: (config, overrides) -> reverse routing, clusters with their peer
 * specs, the admin state of every endpoint address, each forward listener's settings, and every
 * listener's connection and request settings (by socket). Swapped whole, never mutated: everything
 * a connection or a request reads comes from one generation.
 */
record Snapshot(
    long generation,
    GatehouseConfig config,
    Overrides overrides,
    ReverseRouting routing,
    Map<String, ClusterRuntime> clusters,
    Map<HostPort, AdminState> adminStates,
    Map<String, ForwardSettings> forward,
    Map<ListenerKey, CompiledListener> listeners) {

  /** Every peer spec (pool key) this generation connects with. */
  Set<PeerSpec> peerSpecs() {
    Set<PeerSpec> specs = new HashSet<>();
    for (ClusterRuntime cluster : clusters.values()) {
      specs.addAll(cluster.peers().values());
    }
    return specs;
  }

  /**
   * Whether this generation connects with {@code spec}: a cluster's endpoint lists it, or a forward
   * listener opens origin pools with it. Pools of any other spec are retired at the swap.
   */
  java.util.function.Predicate<PeerSpec> connectsWith() {
    Set<PeerSpec> specs = peerSpecs();
    return spec -> specs.contains(spec) || forward.values().stream().anyMatch(f -> f.poolsWith(spec));
  }

  /** Every cluster of this generation (health checks and gauges follow them). */
  List<Cluster> upstreamClusters() {
    List<Cluster> list = new ArrayList<>(clusters.size());
    for (ClusterRuntime runtime : clusters.values()) {
      list.add(runtime.cluster());
    }
    return list;
  }

  /** Every endpoint address some cluster of this generation lists. */
  Set<HostPort> endpointAddresses() {
    Set<HostPort> set = new HashSet<>();
    for (ClusterRuntime runtime : clusters.values()) {
      for (Endpoint e : runtime.cluster().endpoints()) {
        set.add(e.address());
      }
    }
    return set;
  }
}
