package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * A response head written to the client by ranges ({@link UpstreamResponse#forwardByRanges}, then
 * {@link ServerCodec}) is the message the header-object path writes (materialized headers, hop-by-hop
 * fields stripped, the same fields added, Netty's encoder), for generated upstream heads: any field
 * names, hop-by-hop fields and {@code Connection}-named ones, {@code Via}, each framing, HEAD, 204,
 * 205, 304, HTTP/1.0 upstreams, trailers. And the head's hop-by-hop flags are those of its headers.
 */
class UpstreamResponsePropertiesTest {

  record Case(String head, String method, int additions, String body, boolean trailer) {}

  @Provide
  Arbitrary<Case> cases() {
    Arbitrary<String> name = Arbitraries.oneOf(
        Arbitraries.strings().withChars("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~")
            .ofMinLength(1).ofMaxLength(10)
            .filter(n -> !List.of("content-length", "transfer-encoding").contains(n.toLowerCase())),
        Arbitraries.of("Keep-Alive", "proxy-connection", "TE", "Trailer", "Upgrade", "Via", "X-Hop", "x-hop", "Close",
            "Date", "DATE", "via", "Dates", "Vi"));
    Arbitrary<String> value = Arbitraries.strings().withCharRange((char) 0x21, (char) 0x7e).withChars(' ', '\t', '\u00e9')
        .ofMaxLength(20).map(String::strip);
    Arbitrary<String> ows = Arbitraries.of("", " ", "  ", "\t");
    Arbitrary<String> field = Combinators.combine(name, value, ows).as((n, v, o) -> n + ":" + o + v + o);
    Arbitrary<String> connection = Arbitraries.of("close", "keep-alive", "Upgrade", "X-Hop", "x-other", "Close", "")
        .list().ofMaxSize(3).map(tokens -> "Connection: " + String.join(", ", tokens));
    Arbitrary<String> framing = Arbitraries.of("Content-Length: 5", "Transfer-Encoding: chunked",
        "Transfer-Encoding: gzip, chunked", "", "content-length:5");
    Arbitrary<String> statusLine = Combinators.combine(Arbitraries.of(200, 201, 204, 205, 206, 301, 304, 404, 500, 503),
            Arbitraries.of("OK", "", "Not Found", "x y z"), Arbitraries.of("0", "1"))
        .as((code, reason, minor) -> "HTTP/1." + minor + " " + code + (reason.isEmpty() ? "" : " " + reason));
    Arbitrary<String> head = Combinators.combine(statusLine, field.list().ofMaxSize(8), connection.injectNull(0.5), framing)
        .as((sl, fields, conn, frame) -> {
          List<String> lines = new ArrayList<>(fields);
          if (conn != null) {
            lines.add(lines.size() / 2, conn);
          }
          if (!frame.isEmpty()) {
            lines.add(frame);
          }
          // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 response is refused (UpstreamCodec: 502).
          String start = frame.startsWith("Transfer-Encoding") ? sl.replace("HTTP/1.0 ", "HTTP/1.1 ") : sl;
          return start + "\r\n" + String.join("", lines.stream().map(l -> l + "\r\n").toList()) + "\r\n";
        });
    // The relay chunks only a body without a length (relay.Framing): never ADD_CHUNKED beside Content-Length.
    return Combinators.combine(head, Arbitraries.of("GET", "HEAD"), Arbitraries.integers().between(0, 15),
        Arbitraries.of("", "hello"), Arbitraries.of(false, true))
        .as((h, method, additions, body, trailer) -> new Case(h, method,
            h.toLowerCase().contains("content-length:") ? additions & ~UpstreamResponse.ADD_CHUNKED : additions, body, trailer));
  }

  @Property(tries = 500)
  void a_head_forwarded_by_ranges_is_the_message_the_header_path_writes(@ForAll("cases") Case c) throws Exception {
    byte[] byRanges = write(c, Path.RANGES);
    byte[] byHeaders = write(c, Path.HEADERS);
    byte[] materializedLate = write(c, Path.RANGES_THEN_HEADERS_READ);
    String expected = normalized(byHeaders);
    assertThat(normalized(byRanges)).isEqualTo(expected);
    assertThat(normalized(materializedLate)).isEqualTo(expected);
  }

  /**
   * A response read whole ({@link UpstreamFullResponse}: the head and its body in one message) is
   * written as the same bytes as its head followed by its body as a last part, by ranges or not.
   */
  @Property(tries = 500)
  void a_response_read_whole_is_written_as_its_head_and_last_part_are(@ForAll("cases") Case c) throws Exception {
    org.junit.jupiter.api.Assumptions.assumeFalse(c.trailer()); // a body read whole has a length: no trailers
    Case plain = new Case(c.head(), c.method(), c.additions(), c.body(), false);
    for (Path path : Path.values()) {
      String parts = new String(write(plain, path, Shape.PARTS), StandardCharsets.ISO_8859_1);
      assertThat(new String(write(plain, path, Shape.WHOLE), StandardCharsets.ISO_8859_1)).as(path.toString())
          .isEqualTo(parts);
      assertThat(new String(write(plain, path, Shape.WHOLE_VOID_PROMISE), StandardCharsets.ISO_8859_1))
          .as(path + ", void promise (as the relay writes)").isEqualTo(parts);
    }
  }

  @Property(tries = 500)
  void hop_by_hop_flags_of_the_head_are_those_of_its_headers(@ForAll("cases") Case c) throws Exception {
    UpstreamResponse fromHead = parse(c.head());
    UpstreamResponse fromHeaders = parse(c.head());
    assertThat(fromHead.hopByHopFlags()).isEqualTo(HopByHop.scan(fromHeaders.headers()));
  }

  /**
   * Whether the upstream sent {@code Date} (the relay adds one when not, RFC 9110 §6.6.1), as the
   * parse noted it, is what its header objects say.
   */
  @Property(tries = 500)
  void date_noted_by_the_parse_is_that_of_its_headers(@ForAll("cases") Case c) throws Exception {
    UpstreamResponse fromHead = parse(c.head());
    UpstreamResponse fromHeaders = parse(c.head());
    boolean expected = fromHeaders.headers().contains(io.netty.handler.codec.http.HttpHeaderNames.DATE);
    assertThat(fromHead.hasDate()).isEqualTo(expected);
    assertThat(fromHeaders.hasDate()).isEqualTo(expected);
  }

  /**
   * An HTTP/2 stream's HEADERS for a response forwarded by ranges ({@link Http2ResponseHead}, no
   * header objects) are the fields the header path gives (the same head materialized with the same
   * edits, then converted), in the same order.
   */
  @Property(tries = 500)
  void http2_fields_of_a_head_forwarded_by_ranges_are_those_of_its_headers(@ForAll("cases") Case c) throws Exception {
    UpstreamResponse byRanges = parse(c.head());
    UpstreamResponse materialized = parse(c.head());
    org.junit.jupiter.api.Assumptions.assumeTrue(byRanges.forwardByRanges(c.additions()));
    materialized.forwardByRanges(c.additions());
    materialized.headers();
    assertThat(byRanges.writesByRanges()).isTrue();
    List<String> expected = entries(Http2StreamCodec.responseHeaders(materialized));
    List<String> actual = entries(Http2StreamCodec.responseHeaders(byRanges));
    if ((c.additions() & UpstreamResponse.ADD_CLOSE) != 0) {
      // The header path's conversion (Netty's, for a head with Connection) also drops a field named
      // "close", taking the proxy's own "Connection: close" for a list of field names; by ranges it
      // stays, as it does for an HTTP/1.1 client (HeadWriter).
      actual.removeIf(e -> e.startsWith("close:"));
    }
    assertThat(actual).isEqualTo(expected);
  }

  private static List<String> entries(io.netty.handler.codec.http2.Http2Headers headers) {
    List<String> out = new ArrayList<>();
    headers.forEach(e -> out.add(e.getKey() + ": " + e.getValue()));
    return out;
  }

  private enum Path { RANGES, HEADERS, RANGES_THEN_HEADERS_READ }

  /** How the response is handed to the codec: head then last part, or read whole (with a promise, or a void one). */
  private enum Shape { PARTS, WHOLE, WHOLE_VOID_PROMISE }

  private static UpstreamResponse parse(String head) throws HeadParseException {
    return parse(head, null);
  }

  /** With a {@code body}, the response read whole. */
  private static UpstreamResponse parse(String head, String body) throws HeadParseException {
    ByteBuf buf = Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1);
    try {
      HeadParser parser = new HeadParser(false, 8192, 65536);
      HttpHead parsed = parser.parse(buf);
      byte[] bytes = Arrays.copyOf(parser.headBytes(), parsed.length());
      return body == null ? new UpstreamResponse(parsed, bytes)
          : new UpstreamFullResponse(parsed, bytes, Unpooled.copiedBuffer(body, StandardCharsets.US_ASCII));
    } finally {
      buf.release();
    }
  }

  /** The bytes the client codec writes for the case's response, along one path. */
  private static byte[] write(Case c, Path path) throws Exception {
    return write(c, path, Shape.PARTS);
  }

  private static byte[] write(Case c, Path path, Shape shape) throws Exception {
    UpstreamResponse response = shape != Shape.PARTS ? parse(c.head(), c.body()) : parse(c.head());
    int flags = response.hopByHopFlags();
    boolean byRanges = path != Path.HEADERS && response.forwardByRanges(c.additions());
    if (!byRanges) { // as relay.Framing edits a response it cannot forward by ranges
      HopByHop.strip(response.headers(), flags);
      UpstreamResponse.addTo(response.headers(), c.additions(), response.protocolVersion());
      response.setProtocolVersion(HttpVersion.HTTP_1_1);
    } else if (path == Path.RANGES_THEN_HEADERS_READ) {
      response.headers(); // someone read them (an h2 stream's codec, a response-header rule)
    }
    EmbeddedChannel channel = new EmbeddedChannel(new ServerCodec(8192, 65536));
    try {
      channel.writeInbound(Unpooled.copiedBuffer(c.method() + " / HTTP/1.1\r\nHost: a\r\n\r\n", StandardCharsets.US_ASCII));
      Object in;
      while ((in = channel.readInbound()) != null) {
        ReferenceCountUtil.release(in);
      }
      LastHttpContent last = new DefaultLastHttpContent(Unpooled.copiedBuffer(c.body(), StandardCharsets.US_ASCII));
      if (c.trailer()) {
        last.trailingHeaders().add("X-Sum", "1");
      }
      if (shape == Shape.WHOLE) {
        last.release();
        channel.writeOutbound(response);
      } else if (shape == Shape.WHOLE_VOID_PROMISE) {
        last.release();
        channel.writeOneOutbound(response, channel.voidPromise());
        channel.flushOutbound();
      } else {
        channel.writeOutbound(response, last);
      }
      ByteBuf all = Unpooled.buffer();
      Object out;
      while ((out = channel.readOutbound()) != null) {
        all.writeBytes((ByteBuf) out);
        ((ByteBuf) out).release();
      }
      byte[] bytes = new byte[all.readableBytes()];
      all.readBytes(bytes);
      all.release();
      return bytes;
    } finally {
      assertThat(channel.finishAndReleaseAll()).isFalse();
    }
  }

  /** The head as the parser reads it (status, reason, fields without OWS), and the body bytes as written. */
  private static String normalized(byte[] bytes) throws HeadParseException {
    ByteBuf buf = Unpooled.wrappedBuffer(bytes);
    HttpHead head = new HeadParser(false, 8192, 65536).parse(buf);
    assertThat(head).as(new String(bytes, StandardCharsets.ISO_8859_1)).isNotNull();
    StringBuilder sb = new StringBuilder().append(head.majorVersion()).append('.').append(head.minorVersion())
        .append(' ').append(head.status()).append(" [").append(head.reason(buf)).append(']');
    for (int i = 0; i < head.fieldCount(); i++) {
      sb.append("\n").append(head.name(buf, i)).append(": ").append(head.value(buf, i));
    }
    buf.skipBytes(head.length());
    return sb.append("\n\n").append(buf.toString(StandardCharsets.ISO_8859_1)).toString();
  }
}
