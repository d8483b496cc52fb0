package io.gatehouse.lifecycle;

import io.gatehouse.config.GatehouseConfig;
import io.gatehouse.reverse.ClusterRuntime;
import io.gatehouse.reverse.ReverseRouting;
import java.util.Map;

/** One compiled config generation; swapped whole on reload, never mutated. */
record Snapshot(long generation, GatehouseConfig config, ReverseRouting routing, Map<String, ClusterRuntime> clusters) {}
