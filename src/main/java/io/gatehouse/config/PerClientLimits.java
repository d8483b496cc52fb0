package io.gatehouse.config;

/** Limits per client IP address; 0 in a field means "no limit" for it. */
public record PerClientLimits(int connections, double requestsPerSecond, int burst) {}
