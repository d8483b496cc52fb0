package io.gatehouse.config;

import java.time.Duration;

/** Passive outlier detection: eject after consecutive failures, for a growing back-off. */
public record OutlierConfig(int consecutiveFailures, Duration ejectFor, int maxEjectionPercent) {}
