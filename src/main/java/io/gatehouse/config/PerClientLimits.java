package io.gatehouse.config;

/** Limits per client IP address. */
public record PerClientLimits(int connections, double requestsPerSecond, int burst) {}
