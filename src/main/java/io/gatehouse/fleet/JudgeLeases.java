package io.gatehouse.fleet;

import io.lettuce.core.KeyValue;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One judge per deployment: the instance holding {@code gatehouse:{fleet}:judge:ID} ({@code SET NX
 * PX}, three heartbeats long, renewed every heartbeat) judges deployment ID, so two deployments on
 * two routes may be judged by two instances. The instance that starts a deployment claims its lease
 * before the record exists, so nobody else can take it first; when the holder stops or loses Redis,
 * the lease lapses and whichever instance asks first at its next heartbeat takes it and continues
 * from the stored record. A holder stops judging as soon as its lease may have lapsed (its own
 * deadline, counted from before the renewal was sent), so two judges of one deployment never overlap.
 *
 * <p>Every call is asynchronous: heartbeats run on a Redis client thread and never wait there.
 */
public final class JudgeLeases {
  private static final Logger log = LoggerFactory.getLogger(JudgeLeases.class);
  /** Renews only the holder's own lease. */
  private static final String RENEW = """
      if redis.call('GET', KEYS[1]) == ARGV[1] then
        redis.call('PEXPIRE', KEYS[1], ARGV[2]); return 1
      end
      return 0
      """;

  private final FleetClient fleet;
  private final long ttlMillis;
  private final LongSupplier clock;
  /** Per deployment id, until when (clock millis) this instance may judge it. */
  private final Map<String, Long> heldUntil = new ConcurrentHashMap<>();
  /** Per running deployment id, its holder as last read (for the API: no round trip per request). */
  private volatile Map<String, String> holders = Map.of();

  public JudgeLeases(FleetClient fleet, LongSupplier clockMillis) {
    this.fleet = fleet;
    this.ttlMillis = fleet.config().heartbeat().toMillis() * 3;
    this.clock = clockMillis;
  }

  private String key(String id) {
    return fleet.key("judge:" + id);
  }

  /** Every heartbeat: renews the leases held, asks for the free ones of {@code running}, reads the holders. */
  public void start(Supplier<Collection<String>> running) {
    fleet.every(fleet.config().heartbeat(), () -> {
      Collection<String> ids = running.get();
      heldUntil.keySet().retainAll(ids);
      if (!fleet.status().isUp()) {
        return; // held() runs out by itself
      }
      for (String id : ids) {
        take(id);
      }
      readHolders(List.copyOf(ids));
    });
  }

  /** Whether this instance judges deployment {@code id} now. */
  public boolean held(String id) {
    Long until = heldUntil.get(id);
    return until != null && clock.getAsLong() < until;
  }

  /** The holder of each running deployment's lease as last read; absent: none known. */
  public Map<String, String> holders() {
    return holders;
  }

  /**
   * Takes (or renews) the lease of {@code id}; completes with whether this instance holds it. A
   * deployment's starter calls it before writing the record, so it judges what it starts.
   */
  public CompletableFuture<Boolean> take(String id) {
    long sentAt = clock.getAsLong();
    String me = fleet.instance();
    String key = key(id);
    boolean had = held(id);
    return fleet.<Long>call(r -> r.eval(RENEW, ScriptOutputType.INTEGER, new String[] {key}, me, String.valueOf(ttlMillis)))
        .thenCompose(renewed -> renewed == 1
            ? CompletableFuture.completedFuture(true)
            : fleet.call(r -> r.set(key, me, SetArgs.Builder.nx().px(ttlMillis))).thenApply("OK"::equals))
        .handle((holds, failure) -> {
          boolean now = failure == null && holds;
          if (now) {
            heldUntil.put(id, sentAt + ttlMillis);
          } else {
            heldUntil.remove(id);
          }
          if (now != had) {
            log.info(now ? "fleet: this instance ({}) now judges deployment {}"
                : "fleet: this instance ({}) no longer judges deployment {}", me, id);
          }
          return now;
        });
  }

  private void readHolders(List<String> ids) {
    if (ids.isEmpty()) {
      holders = Map.of();
      return;
    }
    fleet.call(r -> r.mget(ids.stream().map(this::key).toArray(String[]::new))).thenAccept(values -> {
      Map<String, String> read = new java.util.LinkedHashMap<>();
      for (int i = 0; i < values.size(); i++) {
        KeyValue<String, String> v = values.get(i);
        if (v.hasValue()) {
          read.put(ids.get(i), v.getValue());
        }
      }
      holders = Map.copyOf(read);
    });
  }
}
