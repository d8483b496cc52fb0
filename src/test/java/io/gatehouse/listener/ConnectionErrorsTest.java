package io.gatehouse.listener;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.gatehouse.metrics.ProxyMetrics;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.NotSslRecordException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** One line per kind and interval, with the count of what was not logged; every event counted. */
class ConnectionErrorsTest {
  @Test
  void logsOncePerIntervalAndReportsWhatItSuppressed() {
    AtomicLong now = new AtomicLong(1_000);
    ProxyMetrics metrics = new ProxyMetrics(false);
    ConnectionErrors errors = new ConnectionErrors("web", metrics, now::get);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    Logger logger = (Logger) LoggerFactory.getLogger(ConnectionErrors.class);
    appender.start();
    logger.addAppender(appender);
    EmbeddedChannel ch = new EmbeddedChannel();
    try {
      for (int i = 0; i < 5; i++) {
        errors.tlsHandshakeFailed(ch, new NotSslRecordException("not an SSL/TLS record"));
      }
      errors.protocolError(ch, "h2", new IllegalStateException("bad\r\npreface"));
      assertThat(appender.list).hasSize(2);
      assertThat(appender.list.get(1).getFormattedMessage()).contains("bad??preface");

      now.addAndGet(TimeUnit.SECONDS.toNanos(10));
      errors.tlsHandshakeFailed(ch, new NotSslRecordException("x"));
      errors.tlsHandshakeFailed(ch, new NotSslRecordException("x"));

      assertThat(appender.list).hasSize(3);
      assertThat(appender.list.get(2).getFormattedMessage()).endsWith("(+4 suppressed)");
      assertThat(metrics.tlsHandshakeFailures("web")).isEqualTo(7);
      assertThat(metrics.protocolErrors("web", "h2")).isEqualTo(1);
    } finally {
      logger.detachAppender(appender);
      assertThat(ch.finishAndReleaseAll()).isFalse();
    }
  }
}
