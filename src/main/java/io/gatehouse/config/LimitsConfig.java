package io.gatehouse.config;

import java.time.Duration;

/**
 * Protection against abuse, applied to every listener.
 *
 * @param perClient {@code null} when there is no per-client limit
 * @param headerTimeout the whole request head must arrive within this (slow-loris guard)
 * @param idleTimeout a client connection with no exchange in progress closes after this
 * @param maxHeaderFields header fields a request may have (431 beyond), HTTP/1.1 and HTTP/2 alike
 * @param requestBufferBytes request bodies are read into memory up to this size before an upstream
 *     connection is taken (a slow small upload then holds none); 0 = stream from the first byte
 * @param minRequestBodyRate bytes per second a client must send its request body at, measured over
 *     {@code minRateWindow} of time spent waiting for it; 0 = no minimum
 * @param minResponseReadRate bytes per second a client must take its response at, measured over
 *     {@code minRateWindow} of time during which the proxy could not write to it; 0 = no minimum
 * @param drainTimeout how long a graceful stop or a hand-off waits for in-flight exchanges, tunnels and
 *     WebSockets before closing them; {@link Duration#ZERO} waits for them without a deadline
 * @param closeSpread the window over which a drain gives client connections their turn to close,
 *     spread evenly, so their clients do not all reconnect at once and a takeover's successor gets
 *     its load gradually; {@link Duration#ZERO}: all at once
 */
public record LimitsConfig(
    int maxConnections,
    PerClientLimits perClient,
    Duration headerTimeout,
    Duration idleTimeout,
    int maxHeaderBytes,
    long maxBodyBytes,
    int maxUriBytes,
    int maxHeaderFields,
    Duration drainTimeout,
    long requestBufferBytes,
    long minRequestBodyRate,
    long minResponseReadRate,
    Duration minRateWindow,
    Duration closeSpread) {

  public static final LimitsConfig DEFAULT =
      new LimitsConfig(
          100_000,
          null,
          Duration.ofSeconds(10),
          Duration.ofSeconds(60),
          32 * 1024,
          10L * 1024 * 1024,
          8 * 1024,
          // Envoy's, Tomcat's and Apache's default (HAProxy: 101); browsers send 10 to 20
          100,
          Duration.ofSeconds(30),
          64 * 1024,
          1024,
          1024,
          Duration.ofSeconds(20),
          // 5 s: a cold successor under heavy load ramps up over it instead of taking every
          // keep-alive client in its first second (p99 60 ms instead of 580-860 ms, docs/benchmarks.md)
          Duration.ofSeconds(5));
}
