package io.gatehouse.zerodowntime;

import java.time.Duration;

/**
 * The steady load of a run: {@code httpClients} keep-alive HTTP/1.1 clients sending {@code GET /req}
 * one after another with {@code requestPause} between, {@code webSockets} clients sending a message
 * every 100 ms and checking its echo, and {@code downloads} clients each fetching
 * {@code downloadBytes} over {@code downloadTime}, again and again. {@code maxDuration} bounds a
 * run whoever forgets to stop it.
 */
record LoadPlan(int httpClients, int webSockets, int downloads, long downloadBytes, Duration downloadTime,
    Duration requestPause, Duration maxDuration) {

  /** For {@code mvn test}: a few clients on a shared 2-core machine. */
  static LoadPlan quick() {
    return new LoadPlan(3, 2, 2, 256 * 1024, Duration.ofMillis(1500), Duration.ofMillis(10), Duration.ofMinutes(2));
  }

  String describe() {
    return httpClients + " keep-alive HTTP/1.1 clients (pause " + requestPause.toMillis() + " ms), "
        + webSockets + " WebSockets (a message every 100 ms), " + downloads + " downloads of "
        + downloadBytes / 1024 + " KiB over " + downloadTime.toMillis() + " ms each";
  }
}
