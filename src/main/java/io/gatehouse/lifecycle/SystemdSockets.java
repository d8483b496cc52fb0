package io.gatehouse.lifecycle;

import io.gatehouse.listener.InheritedSockets;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Listening sockets passed by systemd socket activation (sd_listen_fds(3)): when
 * {@code LISTEN_PID} is this process, descriptors 3 .. 3+{@code LISTEN_FDS}-1 are open listening
 * sockets; a listener whose address matches one adopts it instead of binding. With a
 * {@code .socket} unit the sockets outlive the service, so a restart refuses no connection.
 */
final class SystemdSockets {
  private static final Logger log = LoggerFactory.getLogger(SystemdSockets.class);
  /** SD_LISTEN_FDS_START. */
  private static final int FIRST_FD = 3;

  private SystemdSockets() {}

  static InheritedSockets fromEnvironment(Transport transport) {
    return from(System.getenv(), ProcessHandle.current().pid(), transport);
  }

  static InheritedSockets from(Map<String, String> env, long pid, Transport transport) {
    String listenPid = env.get("LISTEN_PID");
    String listenFds = env.get("LISTEN_FDS");
    if (listenPid == null || listenFds == null) {
      return InheritedSockets.NONE;
    }
    if (!listenPid.trim().equals(Long.toString(pid))) {
      log.info("LISTEN_FDS is meant for pid {}, not this process ({}): ignored", listenPid, pid);
      return InheritedSockets.NONE;
    }
    if (!transport.name().equals("epoll")) {
      log.warn("LISTEN_FDS ignored: socket activation needs the epoll transport (this process uses {})",
          transport.name());
      return InheritedSockets.NONE;
    }
    int count;
    try {
      count = Integer.parseInt(listenFds.trim());
    } catch (NumberFormatException e) {
      log.warn("LISTEN_FDS '{}' ignored (expected: a number of descriptors)", listenFds);
      return InheritedSockets.NONE;
    }
    List<EpollServerSocketChannel> sockets = new ArrayList<>();
    for (int fd = FIRST_FD; fd < FIRST_FD + count; fd++) {
      try {
        EpollServerSocketChannel socket = new EpollServerSocketChannel(fd);
        log.info("socket activation: descriptor {} listens on {}", fd, socket.localAddress());
        sockets.add(socket);
      } catch (RuntimeException e) {
        log.warn("socket activation: descriptor {} is not a TCP listening socket ({}): ignored", fd, e.getMessage());
      }
    }
    return address -> take(sockets, address);
  }

  private static synchronized ServerChannel take(List<EpollServerSocketChannel> sockets, InetSocketAddress address) {
    for (EpollServerSocketChannel s : sockets) {
      InetSocketAddress bound = s.localAddress();
      if (bound != null && bound.getPort() == address.getPort() && bound.getAddress().equals(address.getAddress())) {
        sockets.remove(s);
        return s;
      }
    }
    return null;
  }
}
