package io.gatehouse.cli;

import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.lifecycle.GatehouseServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * {@code gatehouse run [-c FILE] [--takeover]}: runs until SIGTERM/SIGINT or until a successor took
 * its sockets over (then a paced drain and exit 0); SIGHUP reloads; SIGUSR1 reopens the access-log
 * file.
 */
@Command(name = "run", description = "Run the proxy (the embedded loopback forward proxy without -c).")
final class RunCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

  @Option(names = {"-c", "--config"}, description = "config file (YAML)")
  Path config;

  @Option(names = "--takeover", description = "replace the instance running with this config's handoff.socket:"
      + " start fully, take its listening sockets, then let it drain (starts normally when none runs)")
  boolean takeover;

  @Override
  public Integer call() throws Exception {
    GatehouseConfig cfg;
    try {
      cfg = config == null ? ConfigLoader.embeddedDefault() : ConfigLoader.load(config);
    } catch (ConfigException e) {
      System.err.println(e.getMessage());
      return 1;
    }
    if (config == null) {
      log.info("no -c given: running the embedded default (forward proxy on 127.0.0.1:3128, loopback clients only)");
    }
    // TERM and INT are handled, not left to the JVM's shutdown: a drained stop exits 0 (the
    // JVM's own handling would exit 143/130 whatever the hooks do). Installed before the listeners
    // open, so a signal that comes as soon as the port accepts is already a graceful stop.
    CountDownLatch stopRequested = new CountDownLatch(1);
    Signal.handle(new Signal("TERM"), sig -> stopRequested.countDown());
    Signal.handle(new Signal("INT"), sig -> stopRequested.countDown());
    // SIGHUP and SIGUSR1 too, before the listeners open: one that comes while the server starts
    // acts once it is up (ServerSignals), instead of the JVM's default action killing the process.
    // Without -c there is no file to re-read: SIGHUP "reloads" the embedded default, a no-op, and
    // says so. SIGUSR1 reopens the access-log file after rotation (packaging/logrotate/gatehouse),
    // as nginx's USR1 does.
    ServerSignals signals = new ServerSignals();
    boolean hup = signals.handle("HUP", running -> {
      if (config == null) {
        log.info("SIGHUP: running the embedded default, nothing to reload (config generation {} stays)",
            running.generation());
        running.reopenAccessLog();
      } else {
        reload(running, config);
      }
    });
    boolean usr1 = signals.handle("USR1", GatehouseServer::reopenAccessLog);
    if (!hup) {
      log.warn("SIGHUP is ignored in this process (its parent ignored it, as nohup does, and the JVM keeps that):"
          + " a SIGHUP will not reload; use `gatehouse reload` or POST /api/v1/reload");
    }
    if (!usr1) {
      log.warn("SIGUSR1 is ignored in this process (its parent ignored it): it will not reopen the access log;"
          + " a reload reopens it too");
    }
    GatehouseServer server;
    try {
      // A successor that took the sockets over asks for the same paced drain as SIGTERM.
      server = GatehouseServer.start(cfg, takeover, stopRequested::countDown);
    } catch (Exception e) {
      System.err.println("gatehouse: cannot start: " + e.getMessage());
      return 1;
    }
    signals.started(server);
    stopRequested.await();
    server.stop();
    return 0;
  }

  private static void reload(GatehouseServer server, Path file) {
    try {
      server.reload(ConfigLoader.load(file));
    } catch (ConfigException e) {
      log.warn("reload refused, config generation {} stays in use:\n{}", server.generation(), e.getMessage());
    } catch (Exception e) {
      log.warn("reload failed, config generation {} stays in use: {}", server.generation(), e.getMessage());
    }
  }
}
