package io.gatehouse.zerodowntime;

import io.gatehouse.testing.FreePorts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * nginx (Debian's package) as a daemon: {@code nginx -s reload} after a config edit; hand-off is
 * the binary upgrade ({@code USR2} to the master, then {@code WINCH} and {@code QUIT} to the old
 * one); graceful stop is {@code QUIT} (nginx's {@code TERM} is its fast stop).
 */
final class NginxDriver implements ProxyDriver {
  private static final String NGINX = String.valueOf(Processes.which("nginx"));

  private final Path dir;
  private final Path config;
  private final Path pidFile;
  private final List<Long> masters = new ArrayList<>();
  private int port;

  private final java.time.Duration drainTimeout;

  /** {@code drainTimeout} becomes {@code worker_shutdown_timeout}: how long old workers may keep connections. */
  NginxDriver(Path dir, java.time.Duration drainTimeout) {
    this.dir = dir;
    this.drainTimeout = drainTimeout;
    this.config = dir.resolve("nginx.conf");
    this.pidFile = dir.resolve("nginx.pid");
  }

  static String missing() {
    return Processes.which("nginx") != null ? null : "not installed (apt-get install -y nginx)";
  }

  @Override
  public String name() {
    return "nginx";
  }

  @Override
  public void start(List<Origin> origins) throws Exception {
    if (port == 0) {
      port = FreePorts.take();
    }
    writeConfig(origins);
    if (Processes.run(List.of(NGINX, "-c", config.toString()), dir.resolve("nginx-cli.log")) != 0) {
      throw new IOException("nginx did not start; see " + dir);
    }
    Processes.await(() -> Pids.read(pidFile) != 0, 30);
    masters.add(Pids.read(pidFile));
  }

  private void writeConfig(List<Origin> origins) throws IOException {
    String servers = origins.stream().map(o -> "    server " + o.address() + " max_fails=1 fail_timeout=30s;")
        .collect(Collectors.joining("\n"));
    String user = "root".equals(System.getProperty("user.name")) ? "user root;\n" : "";
    Files.writeString(config, """
        %sworker_processes 1;
        worker_shutdown_timeout %ds;
        pid %s;
        error_log %s/nginx-error.log notice;
        events { worker_connections 4096; }
        http {
          access_log off;
          keepalive_timeout 300s;
          keepalive_requests 1000000;
          client_body_temp_path %s/body;
          proxy_temp_path %s/proxy;
          fastcgi_temp_path %s/fastcgi;
          uwsgi_temp_path %s/uwsgi;
          scgi_temp_path %s/scgi;
          map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
          upstream app {
        %s
            keepalive 64;
          }
          server {
            listen 127.0.0.1:%d;
            location / {
              proxy_pass http://app;
              proxy_http_version 1.1;
              proxy_set_header Upgrade $http_upgrade;
              proxy_set_header Connection $connection_upgrade;
              proxy_buffering off;
              proxy_read_timeout 300s;
              proxy_next_upstream error timeout;
            }
          }
        }
        """.formatted(user, drainTimeout.toSeconds(), pidFile, dir, dir, dir, dir, dir, dir, servers, port));
  }

  @Override
  public int port() {
    return port;
  }

  @Override
  public void reload(List<Origin> origins, int n) throws Exception {
    writeConfig(origins);
    if (Processes.run(List.of(NGINX, "-c", config.toString(), "-s", "reload"), dir.resolve("nginx-cli.log")) != 0) {
      throw new IOException("nginx -s reload failed; see " + dir);
    }
  }

  @Override
  public String reloadHow() {
    return "edit nginx.conf, then `nginx -s reload`";
  }

  @Override
  public void gracefulStop() throws Exception {
    Processes.signal(current(), "QUIT");
  }

  private long current() {
    return masters.get(masters.size() - 1);
  }

  @Override
  public String gracefulStopHow() {
    return "`SIGQUIT` (graceful; nginx's `SIGTERM` is a fast stop)";
  }

  @Override
  public String runtimeApiMissing() {
    return "not available: open-source nginx has no runtime API (nginx Plus has one)";
  }

  @Override
  public String drainBoundHow() {
    return "`worker_shutdown_timeout " + drainTimeout.toSeconds() + "s` (also bounds the old workers of a reload)";
  }

  @Override
  public boolean awaitExit(double seconds) throws Exception {
    return Processes.await(() -> masters.stream().noneMatch(Pids::alive), seconds);
  }

  /** The binary upgrade as nginx documents it, with the same binary. */
  @Override
  public String handOff(List<Origin> origins) throws Exception {
    long old = current();
    Processes.signal(old, "USR2");
    if (!Processes.await(() -> Pids.read(pidFile) != 0 && Pids.read(pidFile) != old, 30)) {
      return "the new master did not start";
    }
    long fresh = Pids.read(pidFile);
    masters.add(fresh);
    Processes.await(() -> !Pids.children(fresh).isEmpty(), 10);
    Processes.signal(old, "WINCH"); // old workers stop accepting and finish
    Processes.signal(old, "QUIT"); // the old master leaves once its workers have
    return null;
  }

  @Override
  public String handOffHow() {
    return "binary upgrade: `USR2` to the master, then `WINCH` + `QUIT` to the old master";
  }

  @Override
  public String handOffMissing() {
    return null;
  }

  @Override
  public void close() {
    masters.forEach(Pids::killTree);
  }
}
