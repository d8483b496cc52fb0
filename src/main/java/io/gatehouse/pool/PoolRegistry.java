package io.gatehouse.pool;

import io.netty.channel.EventLoop;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * All connection pools, one per (event loop, upstream key). The outer map is built once and never
 * changes; each inner map is touched only by its own event loop, so lookups take no lock.
 *
 * @param <K> what identifies an upstream: an endpoint address, or origin host:port and TLS settings
 */
public final class PoolRegistry<K> {
  private final Map<EventLoop, Map<K, ConnectionPool>> byLoop = new IdentityHashMap<>();

  public PoolRegistry(List<EventLoop> loops) {
    for (EventLoop loop : loops) {
      byLoop.put(loop, new HashMap<>());
    }
  }

  /** The pool of {@code key} on {@code loop}, created by {@code factory} on first use. Call on {@code loop}. */
  public ConnectionPool pool(EventLoop loop, K key, Function<K, ConnectionPool> factory) {
    Map<K, ConnectionPool> pools = byLoop.get(loop);
    if (pools == null) {
      throw new IllegalStateException("event loop not registered: " + loop);
    }
    ConnectionPool pool = pools.get(key);
    if (pool == null) {
      pool = factory.apply(key);
      pools.put(key, pool);
    }
    return pool;
  }

  /** Runs {@code action} on every pool of {@code key}, each on its own event loop. */
  public void forEach(K key, Consumer<ConnectionPool> action) {
    byLoop.forEach((loop, pools) -> loop.execute(() -> {
      ConnectionPool pool = pools.get(key);
      if (pool != null) {
        action.accept(pool);
      }
    }));
  }

  /** Runs {@code action} on every pool whose key matches, each on its own event loop. */
  public void forEachMatching(java.util.function.Predicate<K> keys, Consumer<ConnectionPool> action) {
    byLoop.forEach((loop, pools) -> loop.execute(() -> pools.forEach((key, pool) -> {
      if (keys.test(key)) {
        action.accept(pool);
      }
    })));
  }

  /** Runs {@code action} on every pool, each on its own event loop. */
  public void forEachPool(Consumer<ConnectionPool> action) {
    byLoop.forEach((loop, pools) -> loop.execute(() -> pools.values().forEach(action)));
  }
}
