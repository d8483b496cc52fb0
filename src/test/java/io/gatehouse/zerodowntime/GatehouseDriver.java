package io.gatehouse.zerodowntime;

import io.gatehouse.testing.FreePorts;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Gatehouse as a real process: {@code java -cp CLASSPATH io.gatehouse.cli.Main run -c FILE}. Reloads
 * alternate {@code SIGHUP} and {@code POST /api/v1/reload}; the graceful stop is {@code SIGTERM};
 * the hand-off is {@code run -c FILE --takeover} when this build has it.
 */
final class GatehouseDriver implements ProxyDriver {
  private static final String MAIN = "io.gatehouse.cli.Main";
  private static final HttpClient ADMIN = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private final String classpath;
  private final Path dir;
  private final Duration drainTimeout;
  private final Path config;
  private final List<Process> processes = new ArrayList<>();
  private Process current;
  private int port;
  private int adminPort;
  /** One cluster per origin, the route splitting by weight: the shape the weights API acts on. */
  private boolean clusterPerOrigin;

  private final List<String> jvmArgs;

  /** {@code jvmArgs} for every Gatehouse process, e.g. a small heap for a test on a shared machine. */
  GatehouseDriver(String classpath, List<String> jvmArgs, Path dir, Duration drainTimeout) {
    this.classpath = classpath;
    this.jvmArgs = List.copyOf(jvmArgs);
    this.dir = dir;
    this.drainTimeout = drainTimeout;
    this.config = dir.resolve("gatehouse.yaml");
  }

  @Override
  public String name() {
    return "Gatehouse";
  }

  @Override
  public void start(List<Origin> origins) throws Exception {
    if (port == 0) {
      port = FreePorts.take();
      adminPort = FreePorts.take();
    }
    writeConfig(origins, 0);
    current = launch(List.of());
    awaitServing(current);
  }

  private Process launch(List<String> extra) throws IOException {
    List<String> args = new ArrayList<>(List.of("run", "-c", config.toString()));
    args.addAll(extra);
    Process process = Processes.java(classpath, jvmArgs, MAIN, args,
        dir.resolve("gatehouse-" + processes.size() + ".log"));
    processes.add(process);
    return process;
  }

  private void awaitServing(Process process) throws Exception {
    boolean up = Processes.await(() -> !process.isAlive() || Processes.canConnect(port), 60);
    if (!up || !process.isAlive()) {
      throw new IOException("Gatehouse did not start; see " + dir);
    }
  }

  /**
   * One reverse listener, one route, one cluster holding the origins. The route timeout changes
   * with every reload so that each one is a real new generation.
   */
  private void writeConfig(List<Origin> origins, int n) throws IOException {
    if (clusterPerOrigin) {
      writeClusterPerOrigin(origins);
      return;
    }
    String endpoints = origins.stream().map(o -> "\"" + o.address() + "\"").collect(Collectors.joining(", "));
    Files.writeString(config, """
        admin: { bind: 127.0.0.1:%d }
        accessLog: { enabled: false }
        limits: { drainTimeout: %dms }
        listeners: [ { name: web, bind: 127.0.0.1:%d, mode: reverse } ]
        routes: [ { name: app, cluster: app, timeout: %ds } ]
        clusters:
          - name: app
            endpoints: [ %s ]
            healthCheck: { interval: 1s, timeout: 500ms, rise: 1, fall: 1 }
            outlier: { consecutiveFailures: 1, ejectFor: 30s }
        """.formatted(adminPort, drainTimeout.toMillis(), port, 30 + n % 2, endpoints));
  }

  /** The first origin gets weight 1, the others 0. */
  private void writeClusterPerOrigin(List<Origin> origins) throws IOException {
    StringBuilder backends = new StringBuilder();
    StringBuilder clusters = new StringBuilder();
    for (Origin origin : origins) {
      backends.append(backends.length() == 0 ? "" : ", ").append("{ cluster: ").append(origin.name)
          .append(", weight: ").append(origin == origins.get(0) ? 1 : 0).append(" }");
      clusters.append("""
            - name: %s
              endpoints: [ "%s" ]
          """.formatted(origin.name, origin.address()));
    }
    Files.writeString(config, """
        admin: { bind: 127.0.0.1:%d }
        accessLog: { enabled: false }
        limits: { drainTimeout: %dms }
        listeners: [ { name: web, bind: 127.0.0.1:%d, mode: reverse } ]
        routes: [ { name: app, backends: [ %s ] } ]
        clusters:
        %s""".formatted(adminPort, drainTimeout.toMillis(), port, backends, clusters));
  }

  @Override
  public void prepare(Scenario scenario) {
    clusterPerOrigin = scenario == Scenario.BLUE_GREEN_API;
  }

  @Override
  public String runtimeApiMissing() {
    return null;
  }

  @Override
  public String switchByApi(Origin from, Origin to) throws Exception {
    HttpResponse<String> response = admin("PUT", "/api/v1/routes/app/backends",
        "[{\"cluster\":\"" + from.name + "\",\"weight\":0},{\"cluster\":\"" + to.name + "\",\"weight\":1}]");
    return response.statusCode() == 200 ? null
        : "PUT /api/v1/routes/app/backends answered " + response.statusCode() + ": " + response.body();
  }

  @Override
  public String drainByApi(Origin origin) throws Exception {
    HttpResponse<String> response = admin("POST",
        "/api/v1/clusters/app/endpoints/" + origin.address() + "/drain?wait=60s", "");
    return response.statusCode() == 200 ? null
        : "POST .../drain?wait=60s answered " + response.statusCode() + ": " + response.body();
  }

  private HttpResponse<String> admin(String method, String path, String body) throws Exception {
    return ADMIN.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
        .method(method, HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(90)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public int port() {
    return port;
  }

  @Override
  public void reload(List<Origin> origins, int n) throws Exception {
    writeConfig(origins, n);
    if (n % 2 == 0) {
      HttpResponse<String> response = ADMIN.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + adminPort + "/api/v1/reload"))
          .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IOException("reload answered " + response.statusCode() + ": " + response.body());
      }
    } else {
      long before = generation();
      Processes.signal(current.pid(), "HUP");
      if (!Processes.await(() -> generation() > before, 10)) {
        throw new IOException("SIGHUP did not load a new generation");
      }
    }
  }

  private long generation() {
    try {
      String metrics = ADMIN.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
      for (String line : metrics.split("\n")) {
        if (line.startsWith("gatehouse_config_generation")) {
          return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
      return -1;
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  @Override
  public String reloadHow() {
    return "edit the YAML, then `POST /api/v1/reload` and `SIGHUP` in turn";
  }

  @Override
  public void gracefulStop() throws Exception {
    Processes.signal(current.pid(), "TERM");
  }

  @Override
  public String gracefulStopHow() {
    return "`SIGTERM` (drainTimeout " + drainTimeout.toMillis() + " ms)";
  }

  @Override
  public String drainBoundHow() {
    return "`limits.drainTimeout: " + drainTimeout.toSeconds() + "s`";
  }

  @Override
  public boolean awaitExit(double seconds) throws Exception {
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    for (Process process : processes) {
      if (!process.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String handOff(List<Origin> origins) throws Exception {
    String missing = handOffMissing();
    if (missing != null) {
      return missing;
    }
    Process old = current;
    current = launch(List.of("--takeover"));
    if (!old.waitFor(drainTimeout.toMillis() + 30_000, TimeUnit.MILLISECONDS)) {
      return "the old process did not exit after the hand-off";
    }
    return current.isAlive() ? null : "the new process exited; see " + dir;
  }

  /** {@code null} when {@code gatehouse run --help} lists {@code --takeover}, else why not. */
  @Override
  public String handOffMissing() throws Exception {
    Files.createDirectories(dir);
    Path help = dir.resolve("run-help.txt");
    Process process = Processes.java(classpath, List.of(), MAIN, List.of("run", "--help"), help);
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      return "not available: `gatehouse run --help` did not answer";
    }
    return Files.readString(help).contains("--takeover") ? null
        : "not available: `gatehouse run --help` lists no `--takeover` in this build";
  }

  @Override
  public String handOffHow() {
    return "`gatehouse run -c FILE --takeover` beside the running process";
  }

  @Override
  public void close() {
    processes.forEach(Process::destroyForcibly);
  }
}
