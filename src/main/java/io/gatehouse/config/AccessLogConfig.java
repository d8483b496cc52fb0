package io.gatehouse.config;

/** The access log: one line per exchange, to a file or to stdout ({@code path: "-"}). */
public record AccessLogConfig(boolean enabled, Format format, String path) {
  public enum Format {
    /** Apache/nginx combined, byte for byte: what log analysers read. */
    COMBINED,
    /** Combined's first fields plus Gatehouse's as {@code key=value}: listener, route, timings, outcome. */
    GATEHOUSE,
    /** One JSON object per line. */
    JSON
  }

  /**
   * {@code gatehouse} by default: the line layout that {@code combined} used to produce before it
   * became the real combined format, so a config without {@code format} logs what it always did.
   */
  public static final AccessLogConfig DEFAULT = new AccessLogConfig(true, Format.GATEHOUSE, "-");
}
