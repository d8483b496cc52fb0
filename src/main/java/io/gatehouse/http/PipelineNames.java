package io.gatehouse.http;

/** Names of the handlers in client and upstream pipelines, so code can find and replace them. */
public final class PipelineNames {
  public static final String PROXY_PROTOCOL = "proxy-protocol";
  public static final String PROXY_PROTOCOL_STAGE = "proxy-protocol-stage";
  public static final String TLS = "tls";
  public static final String TLS_GUARD = "tls-guard";
  public static final String PLAIN_ON_TLS = "plain-on-tls";
  public static final String TLS_ERRORS = "tls-errors";
  public static final String H2_ERRORS = "h2-errors";
  public static final String CLIENT_TIMEOUTS = "client-timeouts";
  public static final String HTTP_CODEC = "http-codec";
  public static final String FLOW_CONTROL = "flow-control";
  public static final String PROXY = "proxy";
  public static final String UPSTREAM_CODEC = "upstream-codec";
  public static final String UPSTREAM = "upstream";
  public static final String TUNNEL = "tunnel";
  public static final String PROTOCOL_SWITCH = "protocol-switch";
  public static final String H2_DRAIN = "h2-drain";
  public static final String H2_CODEC = "h2-codec";
  public static final String H2_TIMEOUTS = "h2-timeouts";
  public static final String H2_FLUSH = "h2-flush";
  public static final String H2_STREAMS = "h2-streams";

  private PipelineNames() {}
}
