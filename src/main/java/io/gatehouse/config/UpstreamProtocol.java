package io.gatehouse.config;

/**
 * The protocol a cluster speaks to its endpoints; the YAML spelling is the lower-case name.
 *
 * <ul>
 *   <li>{@code http1}: HTTP/1.1, one request at a time per pooled connection;
 *   <li>{@code h2}: HTTP/2 (RFC 9113), many requests at once per connection, each a stream; with
 *       {@code tls} it is asked for over ALPN ({@code h2} only), without it the connection opens
 *       with the HTTP/2 preface (prior knowledge, §3.3). Needed for origins that speak nothing else
 *       (gRPC servers), and it multiplexes: one connection per event loop and endpoint carries
 *       the load that takes hundreds of HTTP/1.1 connections.
 * </ul>
 */
public enum UpstreamProtocol {
  HTTP1,
  H2
}
