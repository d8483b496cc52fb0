package io.gatehouse.config;

/** A cluster a route sends to, with its share of traffic (blue/green and canary weights). */
public record BackendRef(String cluster, int weight) {}
