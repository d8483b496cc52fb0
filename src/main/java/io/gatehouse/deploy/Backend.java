package io.gatehouse.deploy;

/** A route's backend and its weight, as a deployment step sets it. */
public record Backend(String cluster, int weight) {}
