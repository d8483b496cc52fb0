package io.gatehouse.health;

import io.gatehouse.metrics.ProxyMetrics;
import io.gatehouse.upstream.Cluster;
import io.gatehouse.upstream.Endpoint;
import io.gatehouse.upstream.Health;
import java.util.Collection;
import java.util.function.Supplier;

/**
 * {@code gatehouse_endpoint_up{cluster,endpoint}} (1 when health checks say up, or when there are
 * none) and {@code gatehouse_endpoint_in_flight{cluster,endpoint}}, read at scrape time from the
 * clusters of the config generation in use, so removed endpoints disappear with their cluster.
 */
public final class EndpointGauges {
  private EndpointGauges() {}

  public static void register(ProxyMetrics metrics, Supplier<? extends Collection<Cluster>> clusters) {
    metrics.gaugeFamily("gatehouse_endpoint_up", "1 when the endpoint's health is up, else 0",
        new String[] {"cluster", "endpoint"}, sink -> {
          for (Cluster c : clusters.get()) {
            for (Endpoint e : c.endpoints()) {
              sink.accept(e.state().health() == Health.UP ? 1 : 0, c.name(), e.address().toString());
            }
          }
        });
    metrics.gaugeFamily("gatehouse_endpoint_in_flight", "Requests in flight to the endpoint",
        new String[] {"cluster", "endpoint"}, sink -> {
          for (Cluster c : clusters.get()) {
            for (Endpoint e : c.endpoints()) {
              sink.accept(e.state().inFlight(), c.name(), e.address().toString());
            }
          }
        });
  }
}
