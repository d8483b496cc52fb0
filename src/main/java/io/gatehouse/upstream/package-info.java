/**
 * Choosing an upstream endpoint: per-address {@link io.gatehouse.upstream.EndpointState} (health,
 * admin state, in-flight, latency, passive outlier ejection) kept in an {@link
 * io.gatehouse.upstream.EndpointRegistry} across reloads; {@link io.gatehouse.upstream.Cluster},
 * one immutable config generation; and {@link io.gatehouse.upstream.LoadBalancer}s, one per event
 * loop and generation, lock-free over immutable endpoint lists.
 *
 * <p>Pure JDK logic with injected time and randomness; no Netty, so every strategy is unit-tested
 * with a fake clock. The proxy calls {@code requestStarted}/{@code requestFinished} around each
 * upstream exchange and passes already-tried endpoints in the {@link
 * io.gatehouse.upstream.PickContext} so retries go elsewhere.
 */
package io.gatehouse.upstream;
