package io.gatehouse.zerodowntime;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Exact accounting of one run, written by every client thread: what was attempted, what succeeded,
 * and each failure with its kind, the origin it lived on (when known) and when it started and
 * ended, so that {@link Verdict} can tell a failure caused by a killed origin from one the proxy
 * caused.
 */
final class Tally {
  /** What went wrong. */
  enum Kind {
    /** connect refused: nobody accepted. */
    REFUSED,
    /** connection reset or closed before a complete response. */
    RESET,
    /** a status other than 200 (or a refused WebSocket handshake). */
    BAD_STATUS,
    /** no answer within the client's timeout. */
    TIMEOUT,
    /** a download ended before its Content-Length, or a byte was wrong. */
    TRUNCATED,
    /** an open WebSocket closed without the client asking. */
    CUT,
    /** a WebSocket echo missing or out of order. */
    ECHO_LOST
  }

  /** Which of the three loads. */
  enum Stream { HTTP, WEBSOCKET, DOWNLOAD }

  record Failure(Stream stream, Kind kind, String origin, long startNanos, long endNanos, String detail) {}

  private static final int KEPT_FAILURES = 10_000;

  final LongAdder requestsSent = new LongAdder();
  final LongAdder requestsOk = new LongAdder();
  /**
   * Requests sent on a reused keep-alive connection that the server closed before answering, and
   * sent again on a new connection, as RFC 9112 §9.3.1 lets a client do for idempotent requests
   * (and as browsers do). Not a failure, but counted: the retry's own outcome is counted too.
   */
  final LongAdder requestsRetriedAfterClose = new LongAdder();
  final LongAdder webSocketsOpened = new LongAdder();
  final LongAdder webSocketsClosedCleanly = new LongAdder();
  final LongAdder echoesOk = new LongAdder();
  final LongAdder downloadsStarted = new LongAdder();
  final LongAdder downloadsOk = new LongAdder();
  final LongAdder downloadBytes = new LongAdder();
  final LongAdder failuresNotKept = new LongAdder();
  private final List<Failure> failures = new ArrayList<>();
  /** When each origin last answered a {@code /req}: how a switch or a drain is seen from the clients. */
  private final Map<String, Long> lastOkNanos = new ConcurrentHashMap<>();

  void ok(String origin) {
    requestsOk.increment();
    if (origin != null) {
      lastOkNanos.put(origin, System.nanoTime());
    }
  }

  /** {@code 0} when {@code origin} never answered. */
  long lastOkNanos(String origin) {
    return lastOkNanos.getOrDefault(origin, 0L);
  }

  void fail(Stream stream, Kind kind, String origin, long startNanos, String detail) {
    Failure failure = new Failure(stream, kind, origin, startNanos, System.nanoTime(), detail);
    synchronized (failures) {
      if (failures.size() < KEPT_FAILURES) {
        failures.add(failure);
        return;
      }
    }
    failuresNotKept.increment();
  }

  List<Failure> failures() {
    synchronized (failures) {
      return List.copyOf(failures);
    }
  }
}
