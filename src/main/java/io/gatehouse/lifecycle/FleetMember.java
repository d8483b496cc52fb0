package io.gatehouse.lifecycle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.gatehouse.config.FleetConfig;
import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.config.RateLimitConfig;
import io.gatehouse.fleet.FleetClient;
import io.gatehouse.fleet.FleetStatus;
import io.gatehouse.fleet.Heartbeats;
import io.gatehouse.metrics.ProxyMetrics;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This instance as a member of a fleet: the Redis link ({@link FleetClient}), the fleet-wide
 * overrides ({@link FleetOverrides}), the fleet rate limits and how each counts now
 * ({@link io.gatehouse.fleet.StoreModes}), its heartbeat, the {@code gatehouse_fleet_store_up}
 * metric and the {@code GET /api/v1/fleet} view. Exists only with a {@code fleet} section.
 */
final class FleetMember implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FleetMember.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The Gatehouse version, from the jar's manifest ("dev" when run from classes). */
  static final String VERSION = java.util.Objects.requireNonNullElse(
      GatehouseServer.class.getPackage().getImplementationVersion(), "dev");

  static final Duration START_WAIT = Duration.ofSeconds(5);

  private final FleetClient client;
  private final Heartbeats heartbeats;
  private final io.gatehouse.fleet.JudgeLeases judges;
  private final io.gatehouse.fleet.FleetSize size;
  private final io.gatehouse.fleet.FleetDeploymentStore deployments;
  private FleetOverrides overrides;
  /** How each fleet rate limit counts now (Redis or its onStoreDown mode); set at start. */
  private io.gatehouse.fleet.StoreModes storeModes;
  /** Every instance's last heartbeat as read at this instance's last beat: the API never waits on Redis. */
  private volatile List<Heartbeats.Beat> beats = List.of();

  private FleetMember(FleetClient client) {
    this.client = client;
    this.heartbeats = new Heartbeats(client, Clock.systemUTC());
    this.judges = new io.gatehouse.fleet.JudgeLeases(client, System::currentTimeMillis);
    this.size = new io.gatehouse.fleet.FleetSize(client.config().expectedInstances());
    // One listing of the fleet's heartbeats per beat feeds both the API's view and the live count.
    client.every(client.config().heartbeat(), () -> {
      if (client.status().isUp()) {
        heartbeats.list().thenAccept(list -> {
          beats = List.copyOf(list);
          size.count(list);
        });
      }
    });
    this.deployments = new io.gatehouse.fleet.FleetDeploymentStore(client);
    deployments.start();
    judges.start(() -> deployments.lastKnown().stream().filter(d -> d.state().running())
        .map(io.gatehouse.deploy.Deployment::id).toList());
  }

  /** The fleet's deployments (Redis), for the deployment controller. */
  io.gatehouse.deploy.DeploymentStore deploymentStore() {
    return deployments;
  }

  /** Starts summing the fleet's figures into the judge's {@code cohorts} (see {@link FleetFigures}). */
  FleetFigures figures(io.gatehouse.deploy.CohortObserver cohorts) {
    FleetFigures figures = new FleetFigures(client, deployments, judges::held, cohorts);
    figures.start();
    return figures;
  }

  /** The instance judging deployment {@code id}, as last read; null when none is known. */
  String judgeOf(String id) {
    return judges.holders().get(id);
  }

  /**
   * Which deployments this instance judges: those whose lease it holds. A deployment it starts is
   * claimed first (waiting at most {@code fleet.timeout}), so the starter judges it while it runs.
   */
  io.gatehouse.deploy.DeploymentController.Judges judges() {
    return new io.gatehouse.deploy.DeploymentController.Judges() {
      @Override
      public boolean judges(String id) {
        return judges.held(id);
      }

      @Override
      public void claim(String id) {
        try {
          judges.take(id).get(client.config().timeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (Exception e) {
          // Redis down: writing the record fails next, with the reason the API gives
        }
      }
    };
  }

  /**
   * Connects, waiting at most {@code fleet.timeout} or {@link #START_WAIT}, whichever is longer (the
   * first connection of a fresh JVM loads and initializes the Redis client: seconds on a busy
   * machine): an instance that reaches Redis begins with the fleet's state; one that does not
   * starts on its local state and catches up.
   */
  static FleetMember start(FleetConfig config, ProxyMetrics metrics) throws InterruptedException {
    FleetMember member = new FleetMember(FleetClient.start(config));
    FleetStatus status = member.client.status();
    metrics.gauge("gatehouse_fleet_store_up", "1 while the fleet's Redis is reachable, 0 while serving on the"
        + " last known fleet state", () -> status.isUp() ? 1 : 0);
    Duration wait = config.timeout().compareTo(START_WAIT) > 0 ? config.timeout() : START_WAIT;
    if (!member.client.awaitUp(wait)) {
      log.warn("fleet: starting without Redis {} (instance {}); the fleet's state applies once it answers",
          config.redis(), config.instance());
    }
    member.storeModes = new io.gatehouse.fleet.StoreModes(metrics);
    return member;
  }

  FleetClient client() {
    return client;
  }

  /** The fleet's live size from heartbeats, for fleet rate limits while Redis is down. */
  io.gatehouse.fleet.FleetSize size() {
    return size;
  }

  /** A route's limiter: counted in the fleet's Redis for {@code scope: fleet}, on this instance otherwise. */
  static io.gatehouse.ratelimit.Limiter limiter(FleetMember fleet, String route, RateLimitConfig limit,
      LongSupplier clock) {
    if (limit.scope() == RateLimitConfig.Scope.FLEET && fleet != null) {
      return new io.gatehouse.fleet.FleetRateLimiter(fleet.client, route, limit, fleet.size(), fleet.storeModes, clock);
    }
    return new io.gatehouse.ratelimit.RateLimiter(limit.perSecond(), limit.burst());
  }

  /** Keeps the store modes of the routes {@code config} still limits fleet-wide, forgets the others. */
  void keepLimitsOf(GatehouseConfig config) {
    storeModes.retain(config.routes().stream()
        .filter(r -> r.rateLimit() != null && r.rateLimit().scope() == RateLimitConfig.Scope.FLEET)
        .map(io.gatehouse.config.RouteConfig::name).collect(java.util.stream.Collectors.toSet()));
  }

  /** From now on the overrides' store is Redis; reads the fleet's now when Redis is up. */
  void shareOverrides(Supplier<Snapshot> current, FleetOverrides.Apply apply) {
    overrides = new FleetOverrides(client, current, apply);
    if (client.status().isUp()) {
      overrides.syncNow(); // begin with the fleet's drains and weights, not only this file's
    }
    overrides.start();
  }

  /** Writes a change to the fleet; see {@link FleetOverrides#write}. */
  long write(Overrides before, Overrides after) {
    return overrides.write(before, after);
  }

  long version() {
    return overrides == null ? 0 : overrides.version();
  }

  /** Starts beating; {@code self} says what this instance runs at each beat. */
  void beat(Supplier<Heartbeats.Beat> self) {
    heartbeats.start(self);
  }

  Heartbeats.Beat self(String admin, long generation) {
    return new Heartbeats.Beat(client.instance(), admin, generation, version(), VERSION,
        System.currentTimeMillis(), true);
  }

  /**
   * {@code GET /api/v1/fleet}: this instance, its Redis state since when, and every instance's last
   * heartbeat (empty, with {@code redis: down}, while Redis is unreachable). From what the last
   * heartbeat read: answered at once even when Redis is slow.
   */
  JsonNode view(String admin, long generation) {
    ObjectNode root = JSON.createObjectNode();
    FleetStatus.State state = client.status().state();
    root.put("name", client.config().name());
    root.put("instance", client.instance());
    root.put("redisAddress", client.config().redis().toString());
    root.put("redis", state.up() ? "up" : "down");
    root.put("since", state.since() == null ? null : state.since().toString());
    root.put("generation", generation);
    root.put("fleetVersion", version());
    ObjectNode held = root.putObject("judges"); // deployment id -> the instance judging it, as last read
    judges.holders().forEach(held::put);
    ArrayNode instances = root.putArray("instances");
    List<Heartbeats.Beat> beats = state.up() ? this.beats : List.of(); // as read at the last heartbeat
    for (Heartbeats.Beat b : beats) {
      instances.addObject().put("instance", b.instance()).put("alive", b.alive()).put("admin", b.admin())
          .put("generation", b.generation()).put("fleetVersion", b.fleetVersion()).put("version", b.version())
          .put("lastHeartbeat", b.time().toString());
    }
    return root;
  }

  @Override
  public void close() {
    if (overrides != null) {
      overrides.close();
    }
    client.close();
  }
}
