package io.gatehouse.fleet;

import io.gatehouse.config.FleetConfig;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.net.SocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This instance's link to the fleet's Redis: one command connection and one pub/sub connection
 * (Lettuce), its {@link FleetStatus}, and the fleet's key space.
 *
 * <p>Starting never blocks on Redis: {@link #start} returns at once and connects in the
 * background, retrying until Redis answers; after that Lettuce reconnects by itself. While Redis
 * is down every command fails at once ({@code REJECT_COMMANDS}) instead of queueing, so callers
 * keep their last state rather than wait.
 *
 * <p>Threads: Lettuce gets client resources of its own (its minimum, two I/O and two
 * computation threads, idle most of the time) rather than the proxy's event loops: a Redis outage
 * (connect timeouts, reconnect back-off) or a slow reply must never delay a client's bytes, and
 * nothing here runs on the data path. Callers that must act on a proxy event loop hop there
 * themselves.
 */
public final class FleetClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FleetClient.class);
  private static final Duration MAX_RETRY = Duration.ofSeconds(2);

  private final FleetConfig config;
  private final ClientResources resources;
  private final RedisClient client;
  private final RedisURI uri;
  private final FleetStatus status;
  private final Map<String, Consumer<String>> subscriptions = new ConcurrentHashMap<>();
  private volatile StatefulRedisConnection<String, String> connection;
  private volatile StatefulRedisPubSubConnection<String, String> pubSub;
  private volatile boolean closed;
  /** Connect attempts before the first success; the first failure is logged, the rest are not. */
  private int attempts;

  private FleetClient(FleetConfig config, Clock clock) {
    this.config = config;
    // Reconnect back-off capped at MAX_RETRY (Lettuce's default grows to 30 s): an instance must
    // catch up within seconds of Redis coming back.
    this.resources = DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2)
        .reconnectDelay(Delay.exponential(Duration.ofMillis(100), MAX_RETRY, 2, TimeUnit.MILLISECONDS))
        .build();
    this.uri = uri(config);
    this.client = RedisClient.create(resources, uri);
    client.setOptions(ClientOptions.builder()
        .autoReconnect(true)
        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
        .socketOptions(SocketOptions.builder().connectTimeout(config.timeout()).keepAlive(true).build())
        .timeoutOptions(TimeoutOptions.enabled(config.timeout()))
        .sslOptions(sslOptions(config))
        .build());
    this.status = new FleetStatus(config.redis().toString(), clock);
  }

  /** Starts connecting in the background; see {@link #awaitUp} to wait a bounded time. */
  public static FleetClient start(FleetConfig config) {
    FleetClient fleet = new FleetClient(config, Clock.systemUTC());
    fleet.connect();
    return fleet;
  }

  /**
   * TLS settings for {@code rediss://}: the configured CA and client certificate, else the JVM's
   * trust store. The server's certificate must name the address's host (Lettuce verifies fully).
   */
  private static SslOptions sslOptions(FleetConfig config) {
    SslOptions.Builder b = SslOptions.builder().jdkSslProvider();
    FleetConfig.Tls tls = config.tls();
    if (tls != null && tls.ca() != null) {
      b.trustManager(tls.ca().toFile());
    }
    if (tls != null && tls.cert() != null) {
      b.keyManager(tls.cert().toFile(), tls.key().toFile(), null);
    }
    return b.build();
  }

  private static RedisURI uri(FleetConfig config) {
    RedisURI.Builder b = RedisURI.builder()
        .withHost(config.redis().host())
        .withPort(config.redis().port())
        .withSsl(config.redis().tls())
        .withDatabase(config.redis().database())
        .withTimeout(config.timeout())
        .withClientName("gatehouse-" + config.instance());
    if (config.password() != null) {
      if (config.username() != null) {
        b.withAuthentication(config.username(), config.password());
      } else {
        b.withPassword(config.password().toCharArray());
      }
    }
    return b.build();
  }

  private void connect() {
    if (closed) {
      return;
    }
    client.connectAsync(StringCodec.UTF8, uri).toCompletableFuture()
        .thenCompose(c -> {
          connection = c;
          return client.connectPubSubAsync(StringCodec.UTF8, uri).toCompletableFuture();
        })
        .whenComplete((p, failure) -> {
          if (failure != null) {
            retry(failure);
          } else {
            connected(p);
          }
        });
  }

  private void retry(Throwable failure) {
    StatefulRedisConnection<String, String> half = connection;
    connection = null;
    if (half != null) {
      half.closeAsync();
    }
    if (closed) {
      return;
    }
    attempts++;
    String why = rootMessage(failure);
    if (attempts == 1) {
      status.set(false, why);
    } else {
      log.debug("fleet: Redis {} still unreachable: {}", config.redis(), why);
    }
    long delay = Math.min(MAX_RETRY.toMillis(), 100L << Math.min(attempts, 5));
    resources.eventExecutorGroup().schedule(this::connect, delay, TimeUnit.MILLISECONDS);
  }

  private void connected(StatefulRedisPubSubConnection<String, String> p) {
    if (closed) {
      p.closeAsync();
      connection.closeAsync();
      return;
    }
    pubSub = p;
    p.addListener(new RedisPubSubAdapter<>() {
      @Override
      public void message(String channel, String message) {
        Consumer<String> consumer = subscriptions.get(channel);
        if (consumer != null) {
          consumer.accept(message);
        }
      }
    });
    if (!subscriptions.isEmpty()) {
      p.async().subscribe(subscriptions.keySet().toArray(String[]::new));
    }
    // Up/down follows the command connection, which Lettuce reconnects from now on; the pub/sub
    // connection reconnects and resubscribes by itself.
    connection.addListener(new RedisConnectionStateListener() {
      @Override
      public void onRedisConnected(RedisChannelHandler<?, ?> handler, SocketAddress address) {
        status.set(true, null);
      }

      @Override
      public void onRedisDisconnected(RedisChannelHandler<?, ?> handler) {
        if (!closed) {
          status.set(false, "connection lost");
        }
      }
    });
    status.set(true, null);
  }

  /**
   * Waits at most {@code bound} for Redis: a starting instance that reaches Redis quickly begins
   * with the fleet's state; one that does not starts anyway, on its local state, and catches up.
   */
  public boolean awaitUp(Duration bound) throws InterruptedException {
    long end = System.nanoTime() + bound.toNanos();
    while (!status.isUp() && System.nanoTime() - end < 0) {
      Thread.sleep(10);
    }
    return status.isUp();
  }

  /**
   * Runs one command; fails at once (never waits) while Redis is down. The usual way in:
   * {@code fleet.call(r -> r.hgetall(fleet.key("overrides")))}.
   */
  public <T> CompletableFuture<T> call(Function<RedisAsyncCommands<String, String>, RedisFuture<T>> command) {
    StatefulRedisConnection<String, String> c = connection;
    if (c == null || !c.isOpen()) {
      return CompletableFuture.failedFuture(new FleetDownException(config.redis().toString()));
    }
    return command.apply(c.async()).toCompletableFuture();
  }

  /**
   * The async command set, or null before the first connection: prefer {@link #call}, which fails
   * cleanly then.
   */
  public RedisAsyncCommands<String, String> commands() {
    StatefulRedisConnection<String, String> c = connection;
    return c == null ? null : c.async();
  }

  /**
   * Delivers every message on {@code channel} (a key from {@link #key}) to {@code consumer}, on a
   * Redis client thread; kept across reconnects. Messages sent while this instance was cut off are
   * lost: re-read the state when {@link FleetStatus} says up again.
   */
  public void subscribe(String channel, Consumer<String> consumer) {
    subscriptions.put(channel, consumer);
    StatefulRedisPubSubConnection<String, String> p = pubSub;
    if (p != null) {
      p.async().subscribe(channel);
    }
  }

  /** {@code gatehouse:{NAME}:suffix}: the braces keep a fleet's keys in one Redis Cluster slot. */
  public String key(String suffix) {
    return "gatehouse:{" + config.name() + "}:" + suffix;
  }

  /** This instance's name in the fleet. */
  public String instance() {
    return config.instance();
  }

  public FleetConfig config() {
    return config;
  }

  public FleetStatus status() {
    return status;
  }

  /**
   * Runs {@code task} every {@code period} on a Redis client thread until close (heartbeats,
   * re-reads) or until the returned future is cancelled.
   */
  public java.util.concurrent.Future<?> every(Duration period, Runnable task) {
    return resources.eventExecutorGroup().scheduleWithFixedDelay(() -> {
      if (closed) {
        return;
      }
      try {
        task.run();
      } catch (RuntimeException e) {
        log.error("fleet: periodic task failed", e); // a bug: the next period tries again
      }
    }, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    closed = true;
    StatefulRedisPubSubConnection<String, String> p = pubSub;
    if (p != null) {
      p.close();
    }
    StatefulRedisConnection<String, String> c = connection;
    if (c != null) {
      c.close();
    }
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    resources.shutdown(0, 2, TimeUnit.SECONDS);
  }

  private static String rootMessage(Throwable t) {
    Throwable cause = t;
    while (cause.getCause() != null && cause.getCause() != cause) {
      cause = cause.getCause();
    }
    return cause.getClass().getSimpleName() + ": " + cause.getMessage();
  }
}
