package io.gatehouse.upstream;

import io.gatehouse.config.ClusterConfig;
import io.gatehouse.config.EndpointConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/** TEMPORARY stub. */
public final class Cluster {
  private final ClusterConfig config;
  private final List<Endpoint> endpoints;
  private Cluster(ClusterConfig config, List<Endpoint> endpoints) { this.config = config; this.endpoints = endpoints; }
  public static Cluster create(ClusterConfig cfg, EndpointRegistry registry, LongSupplier clock) {
    List<Endpoint> list = new ArrayList<>();
    for (EndpointConfig e : cfg.endpoints()) list.add(new Endpoint(e.address(), e.weight(), registry.stateFor(e.address())));
    return new Cluster(cfg, List.copyOf(list));
  }
  public String name() { return config.name(); }
  public List<Endpoint> endpoints() { return endpoints; }
  public ClusterConfig config() { return config; }
  public LoadBalancer newBalancer() { return LoadBalancer.roundRobin(endpoints); }
}
