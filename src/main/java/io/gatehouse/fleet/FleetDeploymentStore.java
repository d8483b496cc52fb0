package io.gatehouse.fleet;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gatehouse.deploy.Deployment;
import io.gatehouse.deploy.DeploymentStore;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet's deployments, in one Redis hash ({@code gatehouse:{fleet}:deployments}, one JSON
 * value per id): a deployment started, promoted or rolled back on any instance is the same record
 * for every instance, and whichever instance holds the {@link JudgeLease} continues it from here.
 * While Redis is down, {@link #all} answers the last list read and {@link #put} fails
 * ({@link FleetDownException}): a step that cannot be shared is not taken.
 */
public final class FleetDeploymentStore implements DeploymentStore {
  private static final Logger log = LoggerFactory.getLogger(FleetDeploymentStore.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final FleetClient fleet;
  private final String key;
  private volatile List<Deployment> last = List.of();

  public FleetDeploymentStore(FleetClient fleet) {
    this.fleet = fleet;
    this.key = fleet.key("deployments");
  }

  @Override
  public List<Deployment> all() {
    try {
      Map<String, String> all = fleet.call(r -> r.hgetall(key)).get(timeoutMillis(), TimeUnit.MILLISECONDS);
      List<Deployment> list = new ArrayList<>();
      all.forEach((id, json) -> {
        try {
          list.add(JSON.readValue(json, Deployment.class));
        } catch (JsonProcessingException e) {
          log.warn("fleet: deployment {} in Redis skipped: {}", id.replaceAll("[^\\x20-\\x7e]", "?"), e.getOriginalMessage());
        }
      });
      list.sort(Comparator.comparingLong(Deployment::createdAt).thenComparing(Deployment::id));
      last = List.copyOf(list);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // Redis down: the last list read stands
    }
    return last;
  }

  /** The list as last read or written: no round trip to Redis. */
  @Override
  public List<Deployment> lastKnown() {
    return last;
  }

  @Override
  public void put(Deployment deployment) {
    String json;
    try {
      json = JSON.writeValueAsString(deployment);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write deployment " + deployment.id() + " as JSON", e);
    }
    try {
      fleet.call(r -> r.hset(key, deployment.id(), json)).get(timeoutMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FleetDownException(fleet.config().redis().toString());
    } catch (ExecutionException | TimeoutException e) {
      throw new FleetDownException(fleet.config().redis().toString());
    }
    List<Deployment> next = new ArrayList<>(last);
    next.removeIf(d -> d.id().equals(deployment.id()));
    next.add(deployment);
    last = List.copyOf(next);
  }

  private long timeoutMillis() {
    return fleet.config().timeout().toMillis();
  }
}
