package io.gatehouse.config;

/** One upstream server. */
public record EndpointConfig(HostPort address, int weight) {}
