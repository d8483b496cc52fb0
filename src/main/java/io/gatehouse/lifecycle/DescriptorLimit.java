package io.gatehouse.lifecycle;

import java.lang.management.ManagementFactory;

/**
 * Whether the process's descriptor limit ({@code RLIMIT_NOFILE}) can hold {@code limits.maxConnections}:
 * each proxied connection holds two sockets (the client's and an upstream's), so a limit below about
 * twice that is reached first, and then accepts pause and upstream connects fail (502) instead of the
 * connection limit answering. Said once at start (nginx says it about {@code worker_connections});
 * the listeners warn when the limit is actually reached.
 */
final class DescriptorLimit {
  /** Descriptors the process holds besides connections: the JVM's jars and files, listeners, logs, epoll. */
  static final long OVERHEAD = 256;

  private DescriptorLimit() {}

  /** The warning for {@code maxConnections} under {@code limit}, or null when it fits (or the limit is unknown). */
  static String check(long maxConnections, long limit) {
    long needed = 2 * maxConnections + OVERHEAD;
    if (limit <= 0 || limit >= needed) {
      return null;
    }
    long fits = Math.max(1, (limit - OVERHEAD) / 2);
    return "the descriptor limit (" + limit + ", ulimit -n / LimitNOFILE) is below what limits.maxConnections ("
        + maxConnections + ") needs: about " + needed + " (two sockets per proxied connection); past " + fits
        + " connections accepts pause and upstream connects fail. Raise the limit, or set limits.maxConnections to"
        + " at most " + fits;
  }

  /** This process's descriptor limit, or -1 where the JVM cannot tell. */
  static long ofThisProcess() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
      return unix.getMaxFileDescriptorCount();
    }
    return -1;
  }
}
