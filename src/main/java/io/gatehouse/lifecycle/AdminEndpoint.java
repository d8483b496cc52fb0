package io.gatehouse.lifecycle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gatehouse.admin.AdminBackend;
import io.gatehouse.admin.AdminException;
import io.gatehouse.admin.AdminServer;
import io.gatehouse.config.AdminConfig;
import io.gatehouse.config.BackendRef;
import io.gatehouse.config.ConfigException;
import io.gatehouse.config.ConfigLoader;
import io.gatehouse.config.ConfigProblem;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.HostPort;
import io.gatehouse.config.RouteConfig;
import io.gatehouse.deploy.DeploymentController;
import io.gatehouse.deploy.DeploymentException;
import io.gatehouse.deploy.DeploymentSpec;
import io.gatehouse.deploy.Slo;
import io.gatehouse.metrics.ProxyMetrics;
import io.gatehouse.reverse.ClusterRuntime;
import io.gatehouse.upstream.AdminState;
import io.gatehouse.upstream.Endpoint;
import io.gatehouse.upstream.EndpointState;
import io.gatehouse.upstream.LatencyWindow;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongSupplier;

/** Implements the admin API's {@link AdminBackend} over the running server; called on the admin worker. */
final class AdminEndpoint implements AdminBackend {
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
  private final ProxyMetrics metrics;
  private final GatehouseServer server;
  private final LongSupplier clock;
  private AdminServer admin;

  private AdminEndpoint(ProxyMetrics metrics, GatehouseServer server, LongSupplier clock) {
    this.metrics = metrics;
    this.server = server;
    this.clock = clock;
  }

  static AdminEndpoint start(AdminConfig config, EventLoopGroup group, Transport transport,
      io.gatehouse.listener.InheritedSockets inherited, ProxyMetrics metrics, GatehouseServer server,
      LongSupplier clock) throws InterruptedException {
    AdminEndpoint endpoint = new AdminEndpoint(metrics, server, clock);
    InetSocketAddress bind = new InetSocketAddress(config.bind().host(), config.bind().port());
    endpoint.admin = AdminServer.start(bind, config.token(), group, transport.serverChannel(), inherited.take(bind),
        endpoint, io.gatehouse.listener.AcceptErrors.of("the admin API"));
    return endpoint;
  }

  io.netty.channel.ServerChannel serverChannel() {
    return admin.serverChannel();
  }

  /** A hand-off gave the admin address to the successor: this process stops accepting on it. */
  void stopAccepting() {
    admin.stopAccepting();
  }

  InetSocketAddress localAddress() {
    return admin.localAddress();
  }

  void close() {
    admin.close();
  }

  @Override
  public String metricsText() {
    return metrics.scrape();
  }

  @Override
  public boolean ready() {
    return server.ready();
  }

  @Override
  public long generation() {
    return server.generation();
  }

  @Override
  public ReloadResult reload() {
    GatehouseConfig current = server.config();
    if (current.source() == null) {
      return failed("", "the embedded default config cannot be reloaded (expected: gatehouse run -c FILE)");
    }
    try {
      server.reload(ConfigLoader.load(current.source()));
      return new ReloadResult(server.generation(), List.of());
    } catch (ConfigException e) {
      return new ReloadResult(server.generation(), e.problems());
    } catch (Exception e) {
      return failed(current.source().toString(), "reload failed, config generation " + server.generation()
          + " stays in use: " + e.getMessage());
    }
  }

  private ReloadResult failed(String file, String message) {
    return new ReloadResult(server.generation(), List.of(new ConfigProblem(file, 0, 0, "", message)));
  }

  @Override
  public JsonNode config() {
    Snapshot snapshot = server.snapshot();
    ObjectNode root = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
    root.put("generation", snapshot.generation());
    root.set("config", ConfigJson.of(snapshot.config()));
    ObjectNode overrides = root.putObject("overrides");
    ObjectNode weights = overrides.putObject("weights");
    snapshot.overrides().weights().forEach((route, w) -> weights.set(route, ConfigJson.of(w.backends())));
    // What each route serves against what its file entry says: after a rolled-back rollout of the
    // config form the file names the new backends while the old ones keep serving.
    ObjectNode versus = overrides.putObject("weightsVsFile");
    snapshot.overrides().weights().forEach((route, w) -> {
      ObjectNode entry = versus.putObject(route);
      entry.set("serving", ConfigJson.of(w.backends()));
      entry.set("file", ConfigJson.of(w.fileBackends()));
    });
    ObjectNode endpoints = overrides.putObject("endpoints");
    snapshot.overrides().endpoints().forEach((key, state) ->
        endpoints.put(key.toString(), state.name().toLowerCase(Locale.ROOT)));
    return root;
  }

  @Override
  public List<ListenerView> listeners() {
    java.util.Map<String, Long> open = server.openConnections();
    List<ListenerView> views = new ArrayList<>();
    for (io.gatehouse.config.ListenerConfig lc : server.snapshot().config().listeners()) {
      InetSocketAddress bound = server.address(lc.name());
      views.add(new ListenerView(lc.name(), lower(lc.mode()), lc.bind().toString(),
          bound == null ? null : new HostPort(bound.getHostString(), bound.getPort()).toString(), lc.tls() == null ? null : lc.tls().alpn(),
          open.getOrDefault(lc.name(), 0L)));
    }
    return views;
  }

  @Override
  public List<RouteView> routes() {
    Snapshot snapshot = server.snapshot();
    List<RouteView> views = new ArrayList<>();
    for (RouteConfig rc : snapshot.config().routes()) {
      Overrides.Weights w = snapshot.overrides().weights().get(rc.name());
      List<BackendWeight> backends = new ArrayList<>();
      for (BackendRef ref : w == null ? rc.backends() : w.backends()) {
        backends.add(new BackendWeight(ref.cluster(), ref.weight()));
      }
      views.add(new RouteView(rc.name(), backends, w != null));
    }
    return views;
  }

  @Override
  public List<ClusterView> clusters() {
    List<ClusterView> views = new ArrayList<>();
    for (ClusterRuntime runtime : server.snapshot().clusters().values()) {
      views.add(view(runtime));
    }
    return views;
  }

  @Override
  public ClusterView cluster(String name) {
    return view(runtime(server.snapshot(), name));
  }

  private ClusterView view(ClusterRuntime runtime) {
    long now = clock.getAsLong();
    List<EndpointView> endpoints = new ArrayList<>();
    for (Endpoint e : runtime.cluster().endpoints()) {
      EndpointState s = e.state();
      LatencyWindow.Figures f = s.lastMinute(now);
      endpoints.add(new EndpointView(e.address().toString(), e.weight(), lower(s.health()), lower(s.adminState()),
          s.isEjected(now), s.inFlight(), server.pools().openConnections(e.address()), f.requests(), f.p50Millis(), f.p99Millis(), f.errorRate()));
    }
    return new ClusterView(runtime.name(), lower(runtime.cluster().balancer()), endpoints);
  }

  @Override
  public EndpointChange setEndpointState(String cluster, String address, String state) {
    AdminState target = AdminState.valueOf(state.toUpperCase(Locale.ROOT));
    HostPort[] resolved = new HostPort[1];
    // Checked inside the change, under the change lock (Generations): a reload cannot slip in between.
    Snapshot next = server.change(o -> {
      resolved[0] = endpoint(server.snapshot(), cluster, address).address();
      return o.withEndpoint(new Overrides.EndpointKey(cluster, resolved[0]), target);
    });
    String warning = null;
    if (target != AdminState.ACTIVE) {
      boolean anyActive = runtime(next, cluster).cluster().endpoints().stream()
          .anyMatch(e -> e.weight() > 0 && e.state().adminState() == AdminState.ACTIVE);
      if (!anyActive) {
        warning = "cluster " + cluster + " has no active endpoint left: its requests get 503 until one is enabled";
      }
    }
    return new EndpointChange(next.generation(), resolved[0].toString(), state, warning);
  }

  @Override
  public long inFlight(String cluster, String address) {
    return endpoint(server.snapshot(), cluster, address).state().inFlight();
  }

  @Override
  public long setWeights(String route, List<BackendWeight> backends) {
    // Checked inside the change, under the change lock (Generations): a reload cannot remove a cluster
    // between the check and the new generation.
    return server.change(o -> {
      Snapshot snapshot = server.snapshot();
      RouteConfig rc = snapshot.config().routes().stream().filter(r -> r.name().equals(route)).findFirst()
          .orElseThrow(() -> AdminException.notFound("route", route));
      List<BackendRef> refs = new ArrayList<>();
      int total = 0;
      for (int i = 0; i < backends.size(); i++) {
        BackendWeight b = backends.get(i);
        if (!snapshot.clusters().containsKey(b.cluster())) {
          throw AdminException.badRequest("[" + i + "].cluster", "no cluster '" + b.cluster() + "'");
        }
        if (b.weight() < 0) {
          throw AdminException.badRequest("[" + i + "].weight", "weight: " + b.weight() + " (expected: >= 0)");
        }
        total += b.weight();
        refs.add(new BackendRef(b.cluster(), b.weight()));
      }
      if (total <= 0) {
        throw AdminException.badRequest("weight", "all weights are 0 (expected: at least one above 0)");
      }
      return o.withWeights(route, new Overrides.Weights(refs, rc.backends()));
    }).generation();
  }

  @Override
  public JsonNode fleet() {
    FleetMember fleet = server.fleetMember();
    if (fleet == null) {
      throw new AdminException(404, "fleet", "this instance is not in a fleet (no fleet section in its config)");
    }
    java.net.InetSocketAddress admin = server.adminAddress();
    return fleet.view(admin == null ? null : admin.getHostString() + ":" + admin.getPort(), server.generation());
  }

  @Override
  public JsonNode deployments() {
    return JSON.valueToTree(deploy(() -> server.deployments().all().stream().map(this::view).toList()));
  }

  @Override
  public long deploymentsAgeSeconds() {
    long readAt = server.deployments().readAt();
    return server.fleetMember() == null ? -1
        : readAt == 0 ? 0 : Math.max(0, (System.currentTimeMillis() - readAt) / 1000);
  }

  @Override
  public JsonNode deployment(String id) {
    return JSON.valueToTree(deploy(() -> view(server.deployments().get(id))));
  }

  /**
   * A deployment with, in a fleet, its judge and whether a due step waits for the store: as its
   * judge recorded it, or (on any instance) a progressing deployment past its verdict time while
   * this instance cannot reach Redis, since nobody can write that step now.
   */
  private DeploymentView view(io.gatehouse.deploy.Deployment d) {
    FleetMember fleet = server.fleetMember();
    if (fleet == null) {
      return DeploymentView.of(d);
    }
    DeploymentView.Waiting waiting = null;
    DeploymentController.Waiting w = server.deployments().waiting(d.id());
    io.gatehouse.fleet.FleetStatus.State redis = fleet.client().status().state();
    long now = System.currentTimeMillis();
    if (w != null) {
      waiting = new DeploymentView.Waiting(java.time.Instant.ofEpochMilli(w.since()).toString(), w.since(), w.reason());
    } else if (!redis.up() && d.state() == io.gatehouse.deploy.DeploymentState.PROGRESSING && now >= d.nextJudgeAt()) {
      long since = Math.max(d.nextJudgeAt(), redis.since() == null ? 0 : redis.since().toEpochMilli());
      waiting = new DeploymentView.Waiting(java.time.Instant.ofEpochMilli(since).toString(), since,
          "the fleet's Redis " + fleet.client().config().redis() + " is down");
    }
    return DeploymentView.of(d, fleet.judgeOf(d.id()), waiting);
  }

  @Override
  public JsonNode startDeployment(DeploymentRequest r) {
    DeploymentSpec spec;
    try {
      spec = spec(r, rolloutOf(r.route()));
    } catch (IllegalArgumentException e) {
      String message = e.getMessage();
      throw AdminException.badRequest(message.substring(0, Math.max(0, message.indexOf(':'))), message);
    }
    return JSON.valueToTree(deploy(() -> view(server.deployments().start(spec))));
  }

  /** The route's {@code rollout} (what a request leaves out comes from it), or the built-in defaults. */
  private io.gatehouse.config.RolloutConfig rolloutOf(String route) {
    return server.config().routes().stream().filter(rc -> rc.name().equals(route) && rc.rollout() != null)
        .map(RouteConfig::rollout).findFirst().orElse(io.gatehouse.config.RolloutConfig.DEFAULT);
  }

  private static DeploymentSpec spec(DeploymentRequest r, io.gatehouse.config.RolloutConfig base) {
    DeploymentSpec d = Rollouts.spec(r.route(), r.to(), base);
    Slo slo = d.slo();
    return new DeploymentSpec(r.route(), r.to(),
        r.strategy() == null ? d.strategy() : DeploymentSpec.Strategy.of(r.strategy()),
        r.steps() == null ? d.steps() : r.steps(),
        r.intervalMillis() == null ? d.intervalMillis() : r.intervalMillis(),
        new Slo(r.maxErrorRate() == null ? slo.maxErrorRate() : r.maxErrorRate(),
            r.maxP99Millis() == null ? slo.maxP99Millis() : r.maxP99Millis(),
            r.minRequests() == null ? slo.minRequests() : r.minRequests(),
            r.vsBaseline() == null ? slo.vsBaseline() : r.vsBaseline()),
        r.onFailure() == null ? d.onFailure() : DeploymentSpec.OnFailure.of(r.onFailure()),
        r.sticky() == null ? d.sticky() : sticky(r.sticky()));
  }

  @Override
  public JsonNode deploymentAction(String id, String action) {
    DeploymentController.Action a = DeploymentController.Action.valueOf(action.toUpperCase(Locale.ROOT));
    return JSON.valueToTree(deploy(() -> view(server.deployments().act(id, a))));
  }

  private static io.gatehouse.deploy.Sticky sticky(Sticky s) {
    if (s == null) {
      return null;
    }
    return switch (s.kind()) {
      case "cookie" -> io.gatehouse.deploy.Sticky.cookie(s.name());
      case "header" -> io.gatehouse.deploy.Sticky.header(s.name());
      default -> io.gatehouse.deploy.Sticky.clientAddress();
    };
  }

  /** Runs a controller call, answering its refusals as the API's 400, 404 and 409. */
  private static <T> T deploy(java.util.function.Supplier<T> call) {
    try {
      return call.get();
    } catch (DeploymentException e) {
      int status = switch (e.kind()) {
        case BAD_REQUEST -> 400;
        case NOT_FOUND -> 404;
        case CONFLICT -> 409;
      };
      throw new AdminException(status, e.field(), e.getMessage());
    } catch (io.gatehouse.deploy.StoreDownException e) {
      throw new AdminException(503, "fleet", e.getMessage() + ": the deployment was not changed (retry when it is back)");
    }
  }

  private static ClusterRuntime runtime(Snapshot snapshot, String cluster) {
    ClusterRuntime runtime = snapshot.clusters().get(cluster);
    if (runtime == null) {
      throw AdminException.notFound("cluster", cluster);
    }
    return runtime;
  }

  private static Endpoint endpoint(Snapshot snapshot, String cluster, String address) {
    ClusterRuntime runtime = runtime(snapshot, cluster);
    HostPort hp;
    try {
      hp = HostPort.parse(address);
    } catch (IllegalArgumentException e) {
      throw AdminException.notFound("endpoint", address + " in cluster " + cluster);
    }
    Endpoint endpoint = runtime.cluster().endpoint(hp);
    if (endpoint == null) {
      throw AdminException.notFound("endpoint", address + "' in cluster '" + cluster);
    }
    return endpoint;
  }

  private static String lower(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT);
  }
}
