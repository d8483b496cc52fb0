package io.gatehouse.pool;

import io.netty.channel.EventLoop;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * All connection pools, one per (event loop, upstream key), each kept while it is used: a pool
 * with no connection and no waiting caller for its idle time is removed. The outer map is built once and never
 * changes; each inner map is touched only by its own event loop, so lookups take no lock.
 *
 * @param <K> what identifies an upstream: an endpoint address, or origin host:port and TLS settings
 */
public final class PoolRegistry<K> {
  private final Map<EventLoop, Map<K, UpstreamPool>> byLoop = new IdentityHashMap<>();

  public PoolRegistry(List<EventLoop> loops) {
    for (EventLoop loop : loops) {
      byLoop.put(loop, new HashMap<>());
    }
  }

  /** The pool of {@code key} on {@code loop}, created by {@code factory} on first use. Call on {@code loop}. */
  public <P extends UpstreamPool> P pool(EventLoop loop, K key, Function<K, P> factory) {
    Map<K, UpstreamPool> pools = byLoop.get(loop);
    if (pools == null) {
      throw new IllegalStateException("event loop not registered: " + loop);
    }
    @SuppressWarnings("unchecked") // each key is always made by the same factory: one pool type per key
    P pool = (P) pools.get(key);
    if (pool == null) {
      P created = factory.apply(key);
      pools.put(key, created);
      // An unused pool is forgotten (on this loop, so the map needs no lock); the next request to
      // its peer makes a new one.
      created.whenUnused(() -> pools.remove(key, created));
      pool = created;
    }
    return pool;
  }

  /** Runs {@code action} on every (key, pool), each on its own event loop. */
  public void forEachEntry(java.util.function.BiConsumer<K, UpstreamPool> action) {
    byLoop.forEach((loop, pools) -> loop.execute(() -> pools.forEach(action)));
  }

  /** Runs {@code action} on every pool whose key matches, each on its own event loop. */
  public void forEachMatching(java.util.function.Predicate<K> keys, Consumer<UpstreamPool> action) {
    byLoop.forEach((loop, pools) -> loop.execute(() -> pools.forEach((key, pool) -> {
      if (keys.test(key)) {
        action.accept(pool);
      }
    })));
  }

  /**
   * Sums {@code count} over the pools whose key matches, each read on its own event loop (pool
   * fields are loop-confined); blocks the caller, so never call it on an event loop. A loop that
   * does not answer within a second is left out.
   */
  public long sumMatching(java.util.function.Predicate<K> keys, java.util.function.ToIntFunction<UpstreamPool> count) {
    List<io.netty.util.concurrent.Future<Long>> parts = new java.util.ArrayList<>();
    byLoop.forEach((loop, pools) -> parts.add(loop.submit(() -> {
      long sum = 0;
      for (Map.Entry<K, UpstreamPool> e : pools.entrySet()) {
        if (keys.test(e.getKey())) {
          sum += count.applyAsInt(e.getValue());
        }
      }
      return sum;
    })));
    long total = 0;
    for (io.netty.util.concurrent.Future<Long> part : parts) {
      if (part.awaitUninterruptibly(1000) && part.isSuccess()) {
        total += part.getNow();
      }
    }
    return total;
  }

  /** Runs {@code action} on every pool, each on its own event loop. */
  public void forEachPool(Consumer<UpstreamPool> action) {
    byLoop.forEach((loop, pools) -> loop.execute(() -> pools.values().forEach(action)));
  }
}
