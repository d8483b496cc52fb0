package io.gatehouse.lifecycle;

import io.gatehouse.config.AccessLogConfig;
import io.gatehouse.http.Reason;
import io.gatehouse.metrics.ProxyMetrics;
import io.gatehouse.relay.ExchangeObserver;
import io.gatehouse.relay.ExchangeRecord;
import java.time.Clock;

/**
 * Records every finished exchange: metrics always, and one access-log line when the access log is
 * enabled, in the configured {@link AccessLogFormat}.
 */
final class ExchangeLog implements ExchangeObserver {
  private final ProxyMetrics metrics;
  private final AccessLogWriter writer;
  private final AccessLogFormat format;
  private final Clock clock;

  /** @param writer null when the access log is off */
  ExchangeLog(ProxyMetrics metrics, AccessLogConfig config, AccessLogWriter writer, Clock clock) {
    this.metrics = metrics;
    this.writer = writer;
    this.clock = clock;
    this.format = AccessLogFormat.of(config.format(), clock.getZone());
  }

  @Override
  public void exchangeFinished(ExchangeRecord r) {
    String route = r.route() == null ? "" : r.route();
    String cluster = r.cluster() == null ? "" : r.cluster();
    metrics.request(r.listener(), route, cluster, r.status(), r.totalNanos());
    if (r.outcome() == Reason.CLIENT_ABORTED || r.outcome() == Reason.DRAIN_DEADLINE) {
      metrics.requestCut(r.listener(), r.outcome().label());
    }
    if (r.upstreamNanos() > 0 && r.cluster() != null) {
      metrics.upstream(cluster, r.upstreamNanos());
    }
    if (writer != null) {
      writer.write(format.line(r, clock.instant()));
    }
  }

  @Override
  public void localReply(Reason reason) {
    metrics.localReply(reason.label());
  }
}
