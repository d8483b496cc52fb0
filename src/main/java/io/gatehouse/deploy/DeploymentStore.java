package io.gatehouse.deploy;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where deployments live between changes, so they survive reloads and restarts. The file store
 * (in {@code lifecycle}) keeps them in the state file; a fleet will keep them in Redis. A store keeps
 * every running deployment and the last {@link #KEEP_ENDED} that ended per route: the state file
 * must not grow with every deployment ever made.
 */
public interface DeploymentStore {
  /** Ended (promoted, rolled back, failed) deployments kept per route; older ones are forgotten. */
  int KEEP_ENDED = 20;

  /**
   * Every deployment known, oldest first, never waiting on a remote store: a store backed by Redis
   * answers the list as last read (see {@link #readAt}).
   */
  List<Deployment> all();

  /** Same as {@link #all}: the list as last read, for a metrics scrape. */
  default List<Deployment> lastKnown() {
    return all();
  }

  /**
   * When {@link #all} was last read from the backing store (epoch millis); 0 for a store that
   * holds the deployments itself (always current).
   */
  default long readAt() {
    return 0;
  }

  /** Adds or replaces (same id) a deployment; durable when this returns. */
  void put(Deployment deployment);

  /**
   * Writes {@code next} only if the stored record of its id is still {@code expected} (null: there is
   * none yet): a compare-and-set, so two writers that read the same record cannot both apply a
   * change over it. Durable when this returns true; false when the record changed meanwhile.
   *
   * @throws RuntimeException when the backing store cannot be reached (nothing was written)
   */
  default boolean replace(Deployment expected, Deployment next) {
    synchronized (this) {
      Deployment current = all().stream().filter(d -> d.id().equals(next.id())).findFirst().orElse(null);
      if (!java.util.Objects.equals(current, expected)) {
        return false;
      }
      put(next);
      return true;
    }
  }

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
        if (!deployment.state().running()) {
          prune(deployment.route());
        }
        save.accept(List.copyOf(byId.values()));
      }

      /** Forgets the oldest ended deployments of {@code route} beyond {@link #KEEP_ENDED}. */
      private void prune(String route) {
        List<String> ended = byId.values().stream()
            .filter(d -> d.route().equals(route) && !d.state().running())
            .sorted(java.util.Comparator.comparingLong(Deployment::createdAt))
            .map(Deployment::id).toList();
        for (int i = 0; i < ended.size() - KEEP_ENDED; i++) {
          byId.remove(ended.get(i));
        }
      }
    };
  }
}
