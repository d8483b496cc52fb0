package io.gatehouse.deploy;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where deployments live between changes, so they survive reloads and restarts. The file store
 * (in {@code lifecycle}) keeps them in the state file; a fleet will keep them in Redis.
 */
public interface DeploymentStore {
  /** Every deployment known, oldest first. */
  List<Deployment> all();

  /** Adds or replaces (same id) a deployment; durable when this returns. */
  void put(Deployment deployment);

  /** A store that forgets at exit (tests, and a proxy without a state file). */
  static DeploymentStore inMemory() {
    return persisting(List.of(), all -> {});
  }

  /** A store seeded with {@code loaded} that hands every change to {@code save} with the whole set. */
  static DeploymentStore persisting(Collection<Deployment> loaded, java.util.function.Consumer<List<Deployment>> save) {
    return new DeploymentStore() {
      private final Map<String, Deployment> byId = new LinkedHashMap<>();

      {
        loaded.forEach(d -> byId.put(d.id(), d));
      }

      @Override
      public synchronized List<Deployment> all() {
        return List.copyOf(byId.values());
      }

      @Override
      public synchronized void put(Deployment deployment) {
        byId.put(deployment.id(), deployment);
        save.accept(List.copyOf(byId.values()));
      }
    };
  }
}
