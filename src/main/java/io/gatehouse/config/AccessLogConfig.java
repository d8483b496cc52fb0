package io.gatehouse.config;

/** The access log: one line per exchange, to a file or to stdout ({@code path: "-"}). */
public record AccessLogConfig(boolean enabled, Format format, String path) {
  public enum Format {
    COMBINED,
    JSON
  }

  public static final AccessLogConfig DEFAULT = new AccessLogConfig(true, Format.COMBINED, "-");
}
