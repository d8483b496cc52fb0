package io.gatehouse.zerodowntime;

import io.gatehouse.testing.FreePorts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * HAProxy (Debian's package). In master-worker mode ({@code -W}) a reload is {@code USR2} to the
 * master and the graceful stop is {@code USR1} (soft stop). The hand-off runs it standalone and
 * starts a new process with {@code -x} (listening sockets fetched over the stats socket declared
 * with {@code expose-fd listeners}) and {@code -sf} (soft-stop the old one once it has them).
 */
final class HaproxyDriver implements ProxyDriver {
  private static final String HAPROXY = String.valueOf(Processes.which("haproxy"));

  private final Path dir;
  private final Path config;
  private final Path socket;
  private final List<Process> processes = new ArrayList<>();
  private int port;
  private boolean masterWorker = true;

  private final java.time.Duration drainTimeout;

  /** {@code drainTimeout} becomes {@code hard-stop-after}: how long an old process may keep connections. */
  HaproxyDriver(Path dir, java.time.Duration drainTimeout) {
    this.dir = dir;
    this.drainTimeout = drainTimeout;
    this.config = dir.resolve("haproxy.cfg");
    this.socket = dir.resolve("haproxy.sock");
  }

  static String missing() {
    return Processes.which("haproxy") != null ? null : "not installed (apt-get install -y haproxy)";
  }

  @Override
  public String name() {
    return "HAProxy";
  }

  /** The hand-off scenario needs the standalone mode. */
  @Override
  public void prepare(Scenario scenario) {
    masterWorker = !scenario.handsOff();
  }

  @Override
  public void start(List<Origin> origins) throws Exception {
    if (port == 0) {
      port = FreePorts.take();
    }
    writeConfig(origins);
    launch(masterWorker ? List.of("-W") : List.of());
  }

  private Process launch(List<String> extra) throws IOException {
    List<String> command = new ArrayList<>(List.of(HAPROXY, "-db", "-f", config.toString()));
    command.addAll(extra);
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("haproxy.log").toFile())).start();
    processes.add(process);
    return process;
  }

  private void writeConfig(List<Origin> origins) throws IOException {
    String servers = origins.stream().map(o -> "    server " + o.name + " " + o.address() + " check inter 1s fall 1 rise 1")
        .collect(Collectors.joining("\n"));
    Files.writeString(config, """
        global
            maxconn 4096
            hard-stop-after %ds
            stats socket %s mode 600 level admin expose-fd listeners
        defaults
            mode http
            timeout connect 5s
            timeout client 300s
            timeout server 300s
            timeout tunnel 300s
            timeout http-keep-alive 300s
            option http-keep-alive
            retries 3
            option redispatch 1
            retry-on conn-failure empty-response response-timeout
        frontend web
            bind 127.0.0.1:%d
            default_backend app
        backend app
            balance roundrobin
            http-reuse safe
        %s
        """.formatted(drainTimeout.toSeconds(), socket, port, servers));
  }

  @Override
  public int port() {
    return port;
  }

  @Override
  public void reload(List<Origin> origins, int n) throws Exception {
    writeConfig(origins);
    Processes.signal(processes.get(0).pid(), "USR2");
  }

  @Override
  public String reloadHow() {
    return "edit haproxy.cfg, then `USR2` to the master (`-W`)";
  }

  @Override
  public void gracefulStop() throws Exception {
    Processes.signal(processes.get(processes.size() - 1).pid(), "USR1");
  }

  @Override
  public String gracefulStopHow() {
    return "`SIGUSR1` (soft stop; HAProxy's `SIGTERM` is a hard stop)";
  }

  @Override
  public String runtimeApiMissing() {
    return "not run: HAProxy's Runtime API (`set server app/blue state drain`, `set weight`) is not wired into this suite";
  }

  @Override
  public String drainBoundHow() {
    return "`hard-stop-after " + drainTimeout.toSeconds() + "s` (also bounds the old workers of a reload)";
  }

  @Override
  public boolean awaitExit(double seconds) throws Exception {
    return Processes.await(() -> processes.stream().noneMatch(Process::isAlive), seconds);
  }

  @Override
  public String handOff(List<Origin> origins) throws Exception {
    if (masterWorker) {
      return "needs the standalone mode";
    }
    Process old = processes.get(processes.size() - 1);
    Process fresh = launch(List.of("-x", socket.toString(), "-sf", Long.toString(old.pid())));
    // the new process has the sockets once it has told the old one to stop (which logs its proxies stopped)
    if (!Processes.await(() -> !fresh.isAlive() || logContains("stopped (cumulated"), 30)) {
      return "the old process was not told to stop within 30 s";
    }
    return fresh.isAlive() ? null : "the new process exited; see " + dir;
  }

  private boolean logContains(String text) {
    try {
      return Files.readString(dir.resolve("haproxy.log")).contains(text);
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public String handOffHow() {
    return "`haproxy -x haproxy.sock -sf OLDPID` (standalone; sockets passed over the stats socket)";
  }

  @Override
  public String handOffMissing() {
    return null;
  }

  @Override
  public void close() {
    for (Process process : processes) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }
  }
}
