package io.gatehouse.config;

/** The admin listener. {@code token} is null when none is configured (allowed only on loopback). */
public record AdminConfig(HostPort bind, String token) {}
