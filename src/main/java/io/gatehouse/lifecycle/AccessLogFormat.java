package io.gatehouse.lifecycle;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import io.gatehouse.config.AccessLogConfig;
import io.gatehouse.relay.ExchangeRecord;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Turns an {@link ExchangeRecord} into one access-log line. Every field a client controls (method,
 * target, user, Host, Referer, User-Agent) can carry quotes, backslashes, CR/LF or other bytes:
 * text formats escape them as nginx does ({@code \x22}, {@code \x0A}, ...) so one exchange is one
 * line and a quoted field cannot be closed early (forged lines, CWE-117); JSON is written by
 * Jackson, non-ASCII escaped too.
 */
abstract class AccessLogFormat {
  /** Apache's {@code %t} / nginx's {@code $time_local}: {@code [10/Oct/2000:13:55:36 -0700]}. */
  private static final DateTimeFormatter TIME_LOCAL =
      DateTimeFormatter.ofPattern("dd/MMM/yyyy:HH:mm:ss Z", Locale.ENGLISH);
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  abstract String line(ExchangeRecord r, Instant time);

  static AccessLogFormat of(AccessLogConfig.Format format, ZoneId zone) {
    return switch (format) {
      case COMBINED -> new Combined(zone);
      case GATEHOUSE -> new Gatehouse(zone);
      case JSON -> new Json();
    };
  }

  /** {@code $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"} */
  private static class Combined extends AccessLogFormat {
    private final ZoneId zone;

    Combined(ZoneId zone) {
      this.zone = zone;
    }

    @Override
    String line(ExchangeRecord r, Instant time) {
      StringBuilder sb = new StringBuilder(160);
      combined(sb, r, time);
      return sb.toString();
    }

    final void combined(StringBuilder sb, ExchangeRecord r, Instant time) {
      escaped(sb, r.client()).append(" - ");
      escaped(sb, r.user()).append(" [").append(TIME_LOCAL.format(time.atZone(zone))).append("] \"");
      if (r.method() == null || "-".equals(r.method())) {
        sb.append('-'); // no request line was read (header timeout, head too large)
      } else {
        escaped(sb, r.method()).append(' ');
        escaped(sb, r.target()).append(' ');
        escaped(sb, r.protocol());
      }
      sb.append("\" ").append(r.status()).append(' ').append(r.bytesOut()).append(" \"");
      escaped(sb, r.referer()).append("\" \"");
      escaped(sb, r.userAgent()).append('"');
    }
  }

  /** Combined, then Gatehouse's own fields as {@code key=value}. */
  private static final class Gatehouse extends Combined {
    Gatehouse(ZoneId zone) {
      super(zone);
    }

    @Override
    String line(ExchangeRecord r, Instant time) {
      StringBuilder sb = new StringBuilder(320);
      combined(sb, r, time);
      sb.append(" authority=");
      escaped(sb, r.authority()).append(" bytes_in=").append(r.bytesIn()).append(" listener=");
      escaped(sb, r.listener()).append(" route=");
      escaped(sb, r.route()).append(" cluster=");
      escaped(sb, r.cluster()).append(" upstream=");
      escaped(sb, r.upstream()).append(" rule=");
      escaped(sb, r.rule()).append(" upstream_ms=").append(TimeUnit.NANOSECONDS.toMillis(r.upstreamNanos()))
          .append(" total_ms=").append(TimeUnit.NANOSECONDS.toMillis(r.totalNanos()))
          .append(" outcome=").append(r.outcome().label());
      return sb.toString();
    }
  }

  private static final class Json extends AccessLogFormat {
    private static final JsonFactory FACTORY = JsonFactory.builder()
        .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
        .build();

    @Override
    String line(ExchangeRecord r, Instant time) {
      StringWriter out = new StringWriter(256);
      try (JsonGenerator g = FACTORY.createGenerator(out)) {
        g.writeStartObject();
        g.writeStringField("time", time.toString());
        g.writeStringField("listener", r.listener());
        g.writeStringField("client", r.client());
        g.writeStringField("user", r.user());
        g.writeStringField("method", r.method());
        g.writeStringField("authority", r.authority());
        g.writeStringField("path", r.target());
        g.writeStringField("protocol", r.protocol());
        g.writeNumberField("status", r.status());
        g.writeNumberField("bytes_in", r.bytesIn());
        g.writeNumberField("bytes_out", r.bytesOut());
        g.writeStringField("referer", r.referer());
        g.writeStringField("user_agent", r.userAgent());
        g.writeStringField("route", r.route());
        g.writeStringField("cluster", r.cluster());
        g.writeStringField("upstream", r.upstream());
        g.writeStringField("rule", r.rule());
        g.writeNumberField("upstream_ms", TimeUnit.NANOSECONDS.toMillis(r.upstreamNanos()));
        g.writeNumberField("total_ms", TimeUnit.NANOSECONDS.toMillis(r.totalNanos()));
        g.writeStringField("outcome", r.outcome().label());
        g.writeEndObject();
      } catch (IOException e) {
        throw new UncheckedIOException(e); // a StringWriter does not fail
      }
      return out.toString();
    }
  }

  /**
   * Appends {@code s} as nginx's {@code escape=default} does: {@code "}, {@code \}, control bytes,
   * DEL and every non-ASCII byte become {@code \xHH}; null becomes {@code -}. Header text arrives
   * as one char per byte (ISO-8859-1), so a char up to 0xFF is the byte; anything above (never
   * from the wire) is escaped byte by byte in UTF-8.
   */
  static StringBuilder escaped(StringBuilder sb, String s) {
    if (s == null) {
      return sb.append('-');
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
        sb.append(c);
      } else if (c <= 0xff) {
        hex(sb, c);
      } else {
        int end = Character.isHighSurrogate(c) && i + 1 < s.length() ? i + 2 : i + 1;
        for (byte b : s.substring(i, end).getBytes(StandardCharsets.UTF_8)) {
          hex(sb, b & 0xff);
        }
        i = end - 1;
      }
    }
    return sb;
  }

  private static void hex(StringBuilder sb, int b) {
    sb.append("\\x").append(HEX[b >> 4]).append(HEX[b & 0xf]);
  }
}
