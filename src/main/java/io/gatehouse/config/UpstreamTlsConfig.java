package io.gatehouse.config;

import java.nio.file.Path;

/** TLS from the proxy to a cluster's endpoints. {@code ca} null = system trust store. */
public record UpstreamTlsConfig(boolean verify, Path ca, String sni) {}
