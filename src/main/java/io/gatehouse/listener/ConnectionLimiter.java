package io.gatehouse.listener;

import io.netty.channel.Channel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Caps open client connections, in total and per client address. A refused connection is closed
 * at accept, before any byte is read. Counters are released when the connection closes.
 */
public final class ConnectionLimiter {
  private final int maxTotal;
  private final int maxPerClient;
  private final AtomicInteger total = new AtomicInteger();
  private final ConcurrentHashMap<InetAddress, AtomicInteger> perClient = new ConcurrentHashMap<>();

  /** @param maxPerClient 0 = no per-client limit */
  public ConnectionLimiter(int maxTotal, int maxPerClient) {
    this.maxTotal = maxTotal;
    this.maxPerClient = maxPerClient;
  }

  boolean tryAdmit(Channel ch) {
    if (total.incrementAndGet() > maxTotal) {
      total.decrementAndGet();
      return false;
    }
    if (maxPerClient > 0 && ch.remoteAddress() instanceof InetSocketAddress) {
      InetAddress address = ((InetSocketAddress) ch.remoteAddress()).getAddress();
      AtomicInteger count = perClient.computeIfAbsent(address, a -> new AtomicInteger());
      if (count.incrementAndGet() > maxPerClient) {
        release(address, count);
        total.decrementAndGet();
        return false;
      }
      ch.closeFuture().addListener(f -> {
        release(address, count);
        total.decrementAndGet();
      });
      return true;
    }
    ch.closeFuture().addListener(f -> total.decrementAndGet());
    return true;
  }

  private void release(InetAddress address, AtomicInteger count) {
    if (count.decrementAndGet() == 0) {
      perClient.remove(address, count);
    }
  }

  public int open() {
    return total.get();
  }
}
