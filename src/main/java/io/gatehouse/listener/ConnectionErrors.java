package io.gatehouse.listener;

import io.gatehouse.metrics.ProxyMetrics;
import io.netty.channel.Channel;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts and logs a listener's client connections that fail below HTTP: TLS handshakes that fail
 * (scanners, plain HTTP sent to a TLS port, no shared cipher), HTTP/2 connection errors (a bad
 * preface) and PROXY protocol failures (a trusted source without a valid header). They are routine on an open port, so each is counted and at most one WARN line per
 * kind is written every {@link #LOG_INTERVAL_NANOS}, with the number of events not logged since;
 * never a stack trace. Thread-safe, lock-free: every event loop of the listener reports here.
 */
public final class ConnectionErrors {
  private static final Logger log = LoggerFactory.getLogger(ConnectionErrors.class);
  static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);
  /** The kind of a trusted connection closed for a missing, malformed or late PROXY header. */
  static final String PROXY_PROTOCOL = "proxy-protocol";

  private final String listener;
  private final ProxyMetrics metrics;
  private final LogWindow tls;
  private final LogWindow h2;
  private final LogWindow proxyProtocol;

  public ConnectionErrors(String listener, ProxyMetrics metrics, LongSupplier clock) {
    this.listener = listener;
    this.metrics = metrics;
    this.tls = new LogWindow(clock, LOG_INTERVAL_NANOS);
    this.h2 = new LogWindow(clock, LOG_INTERVAL_NANOS);
    this.proxyProtocol = new LogWindow(clock, LOG_INTERVAL_NANOS);
  }

  void tlsHandshakeFailed(Channel ch, Throwable cause) {
    metrics.tlsHandshakeFailure(listener);
    long suppressed = tls.admit();
    if (suppressed >= 0) {
      log.warn("{} listener {}: TLS handshake failed: {}{}", ch, listener, describe(cause),
          LogWindow.more(suppressed));
    }
  }

  void protocolError(Channel ch, String kind, Throwable cause) {
    metrics.protocolError(listener, kind);
    long suppressed = ("h2".equals(kind) ? h2 : PROXY_PROTOCOL.equals(kind) ? proxyProtocol : tls).admit();
    if (suppressed >= 0) {
      log.warn("{} listener {}: {} protocol error, connection closed: {}{}", ch, listener, kind, describe(cause),
          LogWindow.more(suppressed));
    }
  }

  /** The innermost cause's class and message, on one line (a peer's bytes may be in the message). */
  static String describe(Throwable cause) {
    Throwable root = cause;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String message = root.getMessage() == null ? "" : root.getMessage();
    StringBuilder sb = new StringBuilder(root.getClass().getSimpleName()).append(": ");
    for (int i = 0; i < message.length() && i < 200; i++) {
      char c = message.charAt(i);
      sb.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return sb.toString().trim();
  }
}
