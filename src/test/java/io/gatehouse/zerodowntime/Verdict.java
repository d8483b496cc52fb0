package io.gatehouse.zerodowntime;

import io.gatehouse.zerodowntime.Tally.Failure;
import io.gatehouse.zerodowntime.Tally.Kind;
import io.gatehouse.zerodowntime.Tally.Stream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A run's tally judged against the contract: every failure counts, except one that lived on an
 * origin the scenario killed (its origin is known, or it was in flight across the kill) and, after
 * a graceful stop, connections refused by the closed listener and WebSockets the stop ended. Those
 * are counted apart, never hidden.
 *
 * @param note why the scenario did not run, or {@code null}
 */
record Verdict(String scenario, String proxy, String note, long requests, long requestsOk,
    long retriedAfterClose, long webSockets, long echoes, long downloads, long downloadsOk,
    Map<String, Long> failures, long onKilledOrigin, long refusedAfterStop, long webSocketsEndedByStop,
    List<Failure> samples) {

  static Verdict notAvailable(String scenario, String proxy, String why) {
    return new Verdict(scenario, proxy, why, 0, 0, 0, 0, 0, 0, 0, Map.of(), 0, 0, 0, List.of());
  }

  /**
   * {@code killed}: origins killed, with the instant of the kill; {@code stopNanos}: 0 or the
   * graceful stop (the listener closes: refusals after it are expected); {@code drainNanos}: 0 or
   * when a process was told to drain (graceful stop or hand-off: it may end WebSockets at its
   * drain deadline).
   */
  static Verdict judge(String scenario, String proxy, Tally tally, Map<String, Long> killed, long stopNanos,
      long drainNanos) {
    Map<String, Long> failures = new TreeMap<>();
    long onKilled = 0;
    long refusedAfterStop = 0;
    long endedByStop = 0;
    List<Failure> samples = new ArrayList<>();
    for (Failure failure : tally.failures()) {
      if (livedOnKilledOrigin(failure, killed)) {
        onKilled++;
      } else if (stopNanos != 0 && failure.kind() == Kind.REFUSED && failure.endNanos() >= stopNanos) {
        refusedAfterStop++;
      } else if (drainNanos != 0 && failure.stream() == Stream.WEBSOCKET && failure.kind() == Kind.CUT
          && failure.endNanos() >= drainNanos) {
        endedByStop++;
      } else {
        failures.merge(failure.stream().name().toLowerCase() + " " + failure.kind().name().toLowerCase(), 1L,
            Long::sum);
        if (samples.size() < 10) {
          samples.add(failure);
        }
      }
    }
    if (tally.failuresNotKept.sum() > 0) {
      failures.put("not kept (over 10000)", tally.failuresNotKept.sum());
    }
    return new Verdict(scenario, proxy, null, tally.requestsSent.sum(), tally.requestsOk.sum(),
        tally.requestsRetriedAfterClose.sum(), tally.webSocketsOpened.sum(), tally.echoesOk.sum(),
        tally.downloadsStarted.sum(), tally.downloadsOk.sum(), failures, onKilled, refusedAfterStop, endedByStop,
        samples);
  }

  private static boolean livedOnKilledOrigin(Failure failure, Map<String, Long> killed) {
    if (failure.origin() != null) {
      Long at = killed.get(failure.origin());
      return at != null && failure.endNanos() >= at;
    }
    return killed.values().stream().anyMatch(at -> failure.startNanos() <= at && at <= failure.endNanos());
  }

  long failed() {
    return failures.values().stream().mapToLong(Long::longValue).sum();
  }

  boolean ran() {
    return note == null;
  }

  /** One cell of the side-by-side table. */
  String cell() {
    if (!ran()) {
      return note;
    }
    StringBuilder cell = new StringBuilder(failed() == 0 ? "**0 failed**" : "**" + failed() + " failed**: "
        + String.join(", ", failures.entrySet().stream().map(e -> e.getValue() + " " + e.getKey()).toList()));
    cell.append("<br>").append(requestsOk).append('/').append(requests).append(" req, ")
        .append(webSockets).append(" ws (").append(echoes).append(" echoes), ")
        .append(downloadsOk).append('/').append(downloads).append(" dl");
    if (retriedAfterClose > 0) {
      cell.append("<br>").append(retriedAfterClose).append(" req resent after keep-alive close");
    }
    if (onKilledOrigin > 0) {
      cell.append("<br>").append(onKilledOrigin).append(" on the killed origin");
    }
    if (refusedAfterStop > 0) {
      cell.append("<br>").append(refusedAfterStop).append(" refused after the listener closed");
    }
    if (webSocketsEndedByStop > 0) {
      cell.append("<br>").append(webSocketsEndedByStop).append(" ws ended by the drain");
    }
    return cell.toString();
  }

  String summary() {
    return proxy + " / " + scenario + ": " + cell().replace("<br>", "; ").replace("**", "")
        + (samples.isEmpty() ? "" : "; first failures: " + samples);
  }
}
