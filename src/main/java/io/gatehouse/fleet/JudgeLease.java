package io.gatehouse.fleet;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One instance of the fleet judges the deployments: the one holding {@code gatehouse:{fleet}:judge}
 * ({@code SET NX PX}, renewed every heartbeat, for three heartbeats). When the holder stops or loses
 * Redis, the lease lapses and another instance takes it at its next heartbeat and continues every
 * deployment from the shared store. The holder stops judging as soon as its lease may have lapsed
 * (its own deadline, counted from before the renewal was sent), so two judges never overlap.
 */
public final class JudgeLease {
  private static final Logger log = LoggerFactory.getLogger(JudgeLease.class);
  /** Renews only the holder's own lease. */
  private static final String RENEW = """
      if redis.call('GET', KEYS[1]) == ARGV[1] then
        redis.call('PEXPIRE', KEYS[1], ARGV[2]); return 1
      end
      return 0
      """;

  private final FleetClient fleet;
  private final String key;
  private final long ttlMillis;
  private final LongSupplier clock;
  /** Until when (clock millis) this instance may judge; 0 when it does not hold the lease. */
  private volatile long heldUntil;

  public JudgeLease(FleetClient fleet, LongSupplier clockMillis) {
    this.fleet = fleet;
    this.key = fleet.key("judge");
    this.ttlMillis = fleet.config().heartbeat().toMillis() * 3;
    this.clock = clockMillis;
  }

  /** Tries to take or renew the lease every heartbeat. */
  public void start() {
    fleet.every(fleet.config().heartbeat(), this::renew);
  }

  /** Whether this instance judges now. */
  public boolean held() {
    return clock.getAsLong() < heldUntil;
  }

  /** The holder's instance name, for the API; null when none (or Redis is down). */
  public String holderNow() {
    try {
      return fleet.call(r -> r.get(key)).get(fleet.config().timeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      return null;
    }
  }

  private void renew() {
    if (!fleet.status().isUp()) {
      return; // held() runs out by itself
    }
    long sentAt = clock.getAsLong();
    String me = fleet.instance();
    boolean had = held();
    fleet.<Long>call(r -> r.eval(RENEW, ScriptOutputType.INTEGER, new String[] {key}, me, String.valueOf(ttlMillis)))
        .thenCompose(renewed -> renewed == 1
            ? java.util.concurrent.CompletableFuture.completedFuture(true)
            : fleet.call(r -> r.set(key, me, SetArgs.Builder.nx().px(ttlMillis))).thenApply("OK"::equals))
        .whenComplete((holds, failure) -> {
          boolean now = failure == null && holds;
          heldUntil = now ? sentAt + ttlMillis : 0;
          if (now != had) {
            log.info(now ? "fleet: this instance ({}) now judges the fleet's deployments"
                : "fleet: this instance ({}) no longer judges the fleet's deployments", me);
          }
        });
  }
}
