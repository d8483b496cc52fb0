package io.gatehouse.config;

import java.time.Duration;

/**
 * Active health checking.
 *
 * @param path HTTP path to probe; {@code null} means a TCP connect check
 * @param expectStatusMin lowest status counted healthy (default 200)
 * @param expectStatusMax highest status counted healthy (default 399)
 * @param host Host header of probes; {@code null} uses the endpoint address
 */
public record HealthCheckConfig(
    String path,
    Duration interval,
    Duration timeout,
    int rise,
    int fall,
    int expectStatusMin,
    int expectStatusMax,
    String host) {}
