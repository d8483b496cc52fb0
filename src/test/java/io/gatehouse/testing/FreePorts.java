package io.gatehouse.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A port for a process a test starts on a port it must name in advance (HAProxy, nginx, redis, a
 * Gatehouse process's config), free when this returns.
 *
 * <p>Taken below the kernel's ephemeral range (32768-60999 on Linux), not with a bind to port 0:
 * a port the kernel hands out for port 0 is also a port it hands out as the source of the next
 * outgoing connection or the next bind to port 0 of this JVM, and between the probe's close and
 * the other process's bind one of those took it now and then (HAProxy's "cannot bind socket
 * (Address already in use)", a red CI). Below the range only an explicit bind competes; the
 * probe's bind rules out a port someone holds, and no port is handed out twice by this JVM.
 */
public final class FreePorts {
  private static final int FIRST = 20_000;
  private static final int END = 32_768;
  private static final Set<Integer> handedOut = ConcurrentHashMap.newKeySet();

  private FreePorts() {}

  /** A loopback port nobody was listening on a moment ago and that this JVM has not handed out. */
  public static int take() {
    for (int tries = 0; tries < 1_000; tries++) {
      int port = ThreadLocalRandom.current().nextInt(FIRST, END);
      if (!handedOut.contains(port) && bindable(port) && handedOut.add(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no free port in " + FIRST + "-" + (END - 1) + " after 1000 tries");
  }

  private static boolean bindable(int port) {
    try (ServerSocket probe = new ServerSocket()) {
      probe.setReuseAddress(true); // a port in TIME_WAIT can be listened on again, as servers do
      probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
      return true;
    } catch (IOException taken) {
      return false;
    }
  }
}
