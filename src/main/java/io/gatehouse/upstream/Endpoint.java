package io.gatehouse.upstream;

import io.gatehouse.config.HostPort;

/** TEMPORARY stub. */
public record Endpoint(HostPort address, int weight, EndpointState state) {}
