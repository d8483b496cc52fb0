package io.gatehouse.lifecycle;

import io.gatehouse.config.AccessLogConfig;
import io.gatehouse.http.Reason;
import io.gatehouse.metrics.ProxyMetrics;
import io.gatehouse.relay.ExchangeObserver;
import io.gatehouse.relay.ExchangeRecord;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * Records every finished exchange: metrics always, and one access-log line when the access log is
 * enabled, in combined-like text or JSON.
 */
final class ExchangeLog implements ExchangeObserver {
  private final ProxyMetrics metrics;
  private final AccessLogConfig config;
  private final AccessLogWriter writer;

  /** @param writer null when the access log is off */
  ExchangeLog(ProxyMetrics metrics, AccessLogConfig config, AccessLogWriter writer) {
    this.metrics = metrics;
    this.config = config;
    this.writer = writer;
  }

  @Override
  public void exchangeFinished(ExchangeRecord r) {
    String route = r.route() == null ? "" : r.route();
    String cluster = r.cluster() == null ? "" : r.cluster();
    metrics.request(r.listener(), route, cluster, r.status(), r.totalNanos());
    if (r.upstreamNanos() > 0 && r.cluster() != null) {
      metrics.upstream(cluster, r.upstreamNanos());
    }
    if (writer != null) {
      writer.write(config.format() == AccessLogConfig.Format.JSON ? json(r) : text(r));
    }
  }

  @Override
  public void localReply(Reason reason) {
    metrics.localReply(reason.label());
  }

  private static String text(ExchangeRecord r) {
    return r.client() + " " + dash(r.user()) + " [" + Instant.now() + "] \"" + r.method() + " "
        + dash(r.authority()) + " " + dash(r.target()) + "\" " + r.status() + " " + r.bytesIn() + " "
        + r.bytesOut() + " listener=" + r.listener() + " route=" + dash(r.route()) + " cluster="
        + dash(r.cluster()) + " upstream=" + r.upstream() + " rule=" + dash(r.rule()) + " upstream_ms="
        + TimeUnit.NANOSECONDS.toMillis(r.upstreamNanos()) + " total_ms="
        + TimeUnit.NANOSECONDS.toMillis(r.totalNanos()) + " outcome=" + r.outcome().label();
  }

  private static String json(ExchangeRecord r) {
    return "{\"time\":\"" + Instant.now() + "\",\"listener\":" + q(r.listener()) + ",\"client\":" + q(r.client())
        + ",\"user\":" + q(r.user()) + ",\"method\":" + q(r.method()) + ",\"authority\":" + q(r.authority())
        + ",\"path\":" + q(r.target()) + ",\"status\":" + r.status() + ",\"bytes_in\":" + r.bytesIn()
        + ",\"bytes_out\":" + r.bytesOut() + ",\"route\":" + q(r.route()) + ",\"cluster\":" + q(r.cluster())
        + ",\"upstream\":" + q(r.upstream()) + ",\"rule\":" + q(r.rule()) + ",\"upstream_ms\":"
        + TimeUnit.NANOSECONDS.toMillis(r.upstreamNanos()) + ",\"total_ms\":"
        + TimeUnit.NANOSECONDS.toMillis(r.totalNanos()) + ",\"outcome\":" + q(r.outcome().label()) + "}";
  }

  private static String dash(String s) {
    return s == null ? "-" : s;
  }

  private static String q(String s) {
    if (s == null) {
      return "null";
    }
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.append('"').toString();
  }
}
