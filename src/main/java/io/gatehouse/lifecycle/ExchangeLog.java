package io.gatehouse.lifecycle;

import io.gatehouse.config.AccessLogConfig;
import io.gatehouse.deploy.CohortObserver;
import io.gatehouse.http.Reason;
import io.gatehouse.metrics.ProxyMetrics;
import io.gatehouse.relay.ExchangeObserver;
import io.gatehouse.relay.ExchangeRecord;
import java.time.Clock;

/**
 * Records every finished exchange: metrics always, and one access-log line when the access log is
 * enabled, in the configured {@link AccessLogFormat}; and each (route, cluster) cohort's figures for
 * the deployment judge.
 */
final class ExchangeLog implements ExchangeObserver {
  private final ProxyMetrics metrics;
  private final AccessLogWriter writer;
  private final AccessLogFormat format;
  private final Clock clock;
  private final CohortObserver cohorts;
  /** The fleet's share of the judge's figures; null without {@code fleet}. */
  private final FleetFigures fleetFigures;

  /** @param writer null when the access log is off */
  ExchangeLog(ProxyMetrics metrics, AccessLogConfig config, AccessLogWriter writer, Clock clock,
      CohortObserver cohorts) {
    this(metrics, config, writer, clock, cohorts, null);
  }

  /** @param fleetFigures null without {@code fleet} */
  ExchangeLog(ProxyMetrics metrics, AccessLogConfig config, AccessLogWriter writer, Clock clock,
      CohortObserver cohorts, FleetFigures fleetFigures) {
    this.metrics = metrics;
    this.cohorts = cohorts;
    this.fleetFigures = fleetFigures;
    this.writer = writer;
    this.clock = clock;
    this.format = AccessLogFormat.of(config.format(), clock.getZone());
  }

  @Override
  public boolean needsRefererAndUserAgent() {
    return writer != null;
  }

  @Override
  public void exchangeFinished(ExchangeRecord r) {
    String route = r.route() == null ? "" : r.route();
    String cluster = r.cluster() == null ? "" : r.cluster();
    metrics.exchange(r.listener(), route, cluster, r.status(), r.totalNanos(), r.upstreamNanos());
    if (r.outcome() == Reason.CLIENT_ABORTED || r.outcome() == Reason.DRAIN_DEADLINE) {
      metrics.requestCut(r.listener(), r.outcome().label());
    }
    if (r.cluster() != null) {
      boolean failed = failed(r);
      cohorts.record(r.route(), r.cluster(), failed, r.upstreamNanos());
      if (fleetFigures != null) {
        fleetFigures.record(r.route(), r.cluster(), failed, r.upstreamNanos());
      }
    }
    if (writer != null) {
      writer.write(format.line(r, clock.instant()));
    }
  }

  /**
   * What the deployment judge counts as a failed request: a 5xx (RFC 9110 §15.6, the server's
   * fault) or an upstream that reset, timed out or answered garbage, whatever status the client saw.
   */
  private static boolean failed(ExchangeRecord r) {
    return r.status() >= 500 || r.outcome() == Reason.UPSTREAM_RESET || r.outcome() == Reason.UPSTREAM_TIMEOUT
        || r.outcome() == Reason.UPSTREAM_BAD_RESPONSE || r.outcome() == Reason.UPSTREAM_CONNECT_FAILED;
  }

  @Override
  public void localReply(Reason reason) {
    metrics.localReply(reason.label());
  }
}
