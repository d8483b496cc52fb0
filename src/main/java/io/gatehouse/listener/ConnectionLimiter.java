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
    return tryAdmit(ch, true);
  }

  /**
   * Admits {@code ch} if the total allows, and the per-client limit too when {@code perClient}:
   * a connection from a PROXY-protocol balancer is checked per client only once its header named
   * the client ({@link #tryAdmitClient}), as the balancer's own address stands for every client.
   */
  boolean tryAdmit(Channel ch, boolean perClient) {
    if (total.incrementAndGet() > maxTotal) {
      total.decrementAndGet();
      return false;
    }
    ch.closeFuture().addListener(f -> total.decrementAndGet());
    if (perClient && ch.remoteAddress() instanceof InetSocketAddress remote && !tryAdmitClient(ch, remote.getAddress())) {
      return false; // the caller closes it, which gives the total back
    }
    return true;
  }

  /** Counts {@code ch} against {@code client}'s connections; false (nothing counted) past the limit. */
  boolean tryAdmitClient(Channel ch, InetAddress client) {
    return admitClient(ch, client, maxPerClient);
  }

  /** Counts {@code ch} against {@code client}'s connections unless that passes {@code limit}. */
  private boolean admitClient(Channel ch, InetAddress client, int limit) {
    if (maxPerClient <= 0 || client == null) {
      return true;
    }
    AtomicInteger count = perClient.computeIfAbsent(client, a -> new AtomicInteger());
    if (count.incrementAndGet() > limit) {
      release(client, count);
      return false;
    }
    ch.closeFuture().addListener(f -> release(client, count));
    return true;
  }

  /**
   * Counts a connection a predecessor process accepted and handed over: it is open already, so it
   * counts even past the limits (new connections wait until it ends). Per client by its socket's
   * peer, as at accept.
   */
  void admitAdopted(Channel ch) {
    total.incrementAndGet();
    ch.closeFuture().addListener(f -> total.decrementAndGet());
    if (ch.remoteAddress() instanceof InetSocketAddress remote) {
      admitClient(ch, remote.getAddress(), Integer.MAX_VALUE);
    }
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
