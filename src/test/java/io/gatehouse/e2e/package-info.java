/**
 * End-to-end tests of the reverse proxy on 127.0.0.1 with port 0: a {@link
 * io.gatehouse.testing.ProxyUnderTest} in front of {@link io.gatehouse.testing.FakeUpstream}s (or
 * raw-socket origins where byte-exact misbehaviour is needed), driven by raw sockets, {@code
 * java.net.http} and curl. Every class carries a timeout; nothing waits by sleeping (Awaitility
 * polls). Issue 2 §4 point by point:
 *
 * <ul>
 *   <li>routing and balancing: {@link io.gatehouse.e2e.RoutingTest}, {@link io.gatehouse.e2e.RetryTest};
 *   <li>framing and streaming: {@link io.gatehouse.e2e.StreamingTest};
 *   <li>hop-by-hop, client identity, Via, Host: {@link io.gatehouse.e2e.HeadersTest};
 *   <li>backpressure: {@link io.gatehouse.e2e.BackpressureTest};
 *   <li>keep-alive pool safety: {@link io.gatehouse.e2e.PoolSafetyTest};
 *   <li>malformed and smuggling-shaped requests: {@link io.gatehouse.e2e.MalformedRequestTest};
 *   <li>bad upstream responses: {@link io.gatehouse.e2e.UpstreamMisbehaviourTest};
 *   <li>local replies and their counters: {@link io.gatehouse.e2e.LocalRepliesTest};
 *   <li>limits and timeouts: {@link io.gatehouse.e2e.ConnectionLimitsTest};
 *   <li>graceful stop: {@link io.gatehouse.e2e.GracefulStopTest};
 *   <li>a real client: {@link io.gatehouse.e2e.CurlClientTest}.
 * </ul>
 */
package io.gatehouse.e2e;
