package io.gatehouse.config;

/**
 * What a route matches.
 *
 * @param host exact host, {@code *.suffix}, or {@code null} for any host
 * @param pathPrefix path prefix, {@code /} by default
 */
public record MatchConfig(String host, String pathPrefix) {}
