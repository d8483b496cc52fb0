package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * A request head written upstream by ranges ({@link ClientRequest}, edited through
 * {@link MessageFields} as the relay edits it, then {@link UpstreamCodec}) is the message the
 * header-object path writes (the same head materialized first, the same edits on its headers,
 * Netty's encoder), and so is one whose headers someone reads after the edits: for generated client
 * heads with any field names, hop-by-hop and {@code Connection}-named fields (including ones naming
 * {@code Content-Length} or the proxy's own fields), existing {@code X-Forwarded-For}, {@code
 * Forwarded} and {@code Via}, both framings, HTTP/1.0, and trailers.
 */
class ClientRequestPropertiesTest {

  /** @param forward edited as the forward proxy edits (Proxy-* and, anonymous, identifying fields removed) */
  record Case(String head, boolean chunked, String body, boolean trailer, boolean hostRewrite, boolean absoluteForm,
      boolean forward) {}

  @Provide
  Arbitrary<Case> cases() {
    Arbitrary<String> name = Arbitraries.oneOf(
        Arbitraries.strings().withChars("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~")
            .ofMinLength(1).ofMaxLength(10)
            .filter(n -> !List.of("content-length", "transfer-encoding", "host").contains(n.toLowerCase())),
        Arbitraries.of("Keep-Alive", "proxy-connection", "TE", "Trailer", "Upgrade", "Via", "X-Hop", "x-hop",
            "X-Forwarded-For", "x-forwarded-proto", "Forwarded", "Expect", "User-Agent", "Cookie",
            "Proxy-Authorization", "X-Real-IP"));
    Arbitrary<String> value = Arbitraries.strings().withCharRange((char) 0x21, (char) 0x7e).withChars(' ', '\t', '\u00e9')
        .ofMaxLength(20).map(String::strip);
    Arbitrary<String> ows = Arbitraries.of("", " ", "  ", "\t");
    Arbitrary<String> field = Combinators.combine(name, value, ows).as((n, v, o) -> n + ":" + o + v + o);
    Arbitrary<String> connection = Arbitraries.of("close", "keep-alive", "Upgrade", "X-Hop", "Content-Length",
            "X-Forwarded-For", "via", "host", "x-other", "")
        .list().ofMaxSize(3).map(tokens -> "Connection: " + String.join(", ", tokens));
    Arbitrary<String> requestLine = Combinators.combine(Arbitraries.of("GET", "POST", "PUT", "OPTIONS", "BREW"),
            Arbitraries.of("/", "/a/b?c=d", "/%20x"), Arbitraries.of("0", "1"))
        .as((method, target, minor) -> method + " " + target + " HTTP/1." + minor);
    return Combinators.combine(requestLine, field.list().ofMaxSize(8), connection.injectNull(0.5),
            Arbitraries.of(false, true), Arbitraries.of("", "hello"), Arbitraries.of(false, true),
            Arbitraries.of(false, true), Arbitraries.of(false, true).list().ofSize(2))
        .as((line, fields, conn, chunkedIfHttp11, body, trailer, rewrite, flags) -> {
          boolean absolute = flags.get(0);
          boolean chunked = chunkedIfHttp11 && line.endsWith("1.1"); // HTTP/1.0 with chunked: refused (400)
          List<String> lines = new ArrayList<>(fields);
          lines.add(lines.size() / 2, "Host: shop.test");
          if (conn != null) {
            lines.add(lines.size() / 2, conn);
          }
          lines.add(chunked ? "Transfer-Encoding: chunked" : "Content-Length: " + body.length());
          // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 request is refused (400), so never chunked.
          String start = chunked ? line.replace(" HTTP/1.0", " HTTP/1.1") : line;
          String head = start + "\r\n" + String.join("", lines.stream().map(l -> l + "\r\n").toList()) + "\r\n";
          return new Case(head, chunked, body, trailer && chunked, rewrite, absolute, flags.get(1));
        });
  }

  @Property(tries = 500)
  void a_request_forwarded_by_ranges_is_the_message_the_header_path_writes(@ForAll("cases") Case c) throws Exception {
    String expected = normalized(write(c, Path.HEADERS));
    assertThat(normalized(write(c, Path.RANGES))).isEqualTo(expected);
    assertThat(normalized(write(c, Path.RANGES_THEN_HEADERS_READ))).isEqualTo(expected);
  }

  @Property(tries = 300)
  void a_request_sent_to_an_http2_upstream_from_its_bytes_has_the_header_path_s_fields(@ForAll("cases") Case c) {
    assertThat(http2Fields(c, Path.RANGES)).isEqualTo(http2Fields(c, Path.HEADERS));
  }

  /** The HEADERS block {@link Http2UpstreamCodec} sends for the case's edited request, as "name: value" lines in order. */
  private static List<String> http2Fields(Case c, Path path) {
    ClientRequest request = decode(c);
    if (path == Path.HEADERS) {
      request.headers();
    }
    edit(request, c);
    assertThat(request.writesByRanges()).isEqualTo(path == Path.RANGES);
    EmbeddedChannel upstream = new EmbeddedChannel(new Http2UpstreamCodec(true));
    try {
      upstream.writeOutbound(request);
      io.netty.handler.codec.http2.Http2HeadersFrame frame = upstream.readOutbound();
      assertThat(request.writesByRanges()).as("sending reads no header objects").isEqualTo(path == Path.RANGES);
      List<String> lines = new ArrayList<>();
      frame.headers().forEach(f -> lines.add(f.getKey() + ": " + f.getValue()));
      assertThat(frame.isEndStream()).isEqualTo(!c.chunked() && c.body().isEmpty());
      return lines;
    } finally {
      upstream.finishAndReleaseAll();
    }
  }

  @Property(tries = 300)
  void fields_read_before_and_after_the_edits_are_those_of_the_headers(@ForAll("cases") Case c) throws Exception {
    ClientRequest byRanges = decode(c);
    ClientRequest materialized = decode(c);
    materialized.headers();
    for (ClientRequest r : List.of(byRanges, materialized)) {
      assertThat(MessageFields.of(r).getAll(HttpHeaderNames.VIA)).isEqualTo(materialized.headers().getAll(HttpHeaderNames.VIA));
    }
    edit(byRanges, c);
    edit(materialized, c);
    assertThat(byRanges.writesByRanges()).isTrue();
    for (String name : List.of("via", "x-hop", "proxy-authorization", "host", "x-forwarded-for", "cookie", "te")) {
      io.netty.util.AsciiString n = io.netty.util.AsciiString.of(name);
      assertThat(byRanges.getAll(n)).as(name).isEqualTo(materialized.headers().getAll(n));
      assertThat(byRanges.get(n)).as(name).isEqualTo(materialized.headers().get(n));
    }
  }

  @Property(tries = 300)
  void hop_by_hop_flags_of_the_head_are_those_of_the_received_fields(@ForAll("cases") Case c) throws Exception {
    io.netty.handler.codec.http.HttpHeaders received = new io.netty.handler.codec.http.DefaultHttpHeaders();
    for (String line : c.head().split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && !line.startsWith("GET ") && line.indexOf(' ') != 0) {
        received.add(line.substring(0, colon), line.substring(colon + 1).strip());
      }
    }
    assertThat(decode(c).hopByHopFlags()).isEqualTo(HopByHop.scan(received));
  }

  @Property(tries = 300)
  void no_view_shows_a_hop_by_hop_field(@ForAll("cases") Case c) throws Exception {
    ClientRequest request = decode(c);
    for (String name : List.of("connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade",
        "transfer-encoding", "x-hop")) {
      boolean named = c.head().toLowerCase().matches("(?s).*\r\nconnection:[^\r]*x-hop.*");
      if (name.equals("x-hop") && !named) {
        continue;
      }
      assertThat(request.get(io.netty.util.AsciiString.of(name))).as(name).isNull();
      assertThat(request.headers().getAll(name)).as(name).isEmpty();
    }
  }

  private enum Path { RANGES, HEADERS, RANGES_THEN_HEADERS_READ }

  /** The request as the client leg's codec reads it. */
  private static ClientRequest decode(Case c) {
    EmbeddedChannel client = new EmbeddedChannel(new ServerCodec(8192, 65536));
    try {
      client.writeInbound(Unpooled.copiedBuffer(c.head(), StandardCharsets.ISO_8859_1));
      Object in = client.readInbound();
      assertThat(in).as(c.head()).isInstanceOf(ClientRequest.class);
      Object rest;
      while ((rest = client.readInbound()) != null) {
        ReferenceCountUtil.release(rest);
      }
      return (ClientRequest) in;
    } finally {
      client.finishAndReleaseAll();
    }
  }

  /**
   * The edits relay.Framing and reverse.ReverseProxyHandler make, in their order; for a forward
   * case, those of forward.ForwardProxyHandler and its IdentityHeaders first.
   */
  private static void edit(HttpRequest request, Case c) {
    MessageFields fields = MessageFields.of(request);
    if (c.forward()) {
      fields.set(HttpHeaderNames.HOST, "origin.test:8080");
      for (String name : List.of("proxy-authorization", "proxy-authenticate", "proxy-connection", "x-real-ip", "via")) {
        fields.remove(io.netty.util.AsciiString.of(name));
      }
      String prior = fields.get(io.netty.util.AsciiString.of("x-forwarded-for"));
      fields.set(io.netty.util.AsciiString.of("x-forwarded-for"), prior == null ? "10.9.8.7" : prior + ", 10.9.8.7");
    }
    int flags = ((ClientRequest) request).hopByHopFlags();
    if ((flags & HopByHop.CHUNKED) != 0) {
      fields.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    }
    request.setProtocolVersion(HttpVersion.HTTP_1_1);
    request.setUri("/rewritten?q=1");
    if (c.absoluteForm()) {
      fields.set(HttpHeaderNames.HOST, "absolute.test");
    }
    String host = fields.get(HttpHeaderNames.HOST);
    ClientIdentity.addXForwarded(fields, "10.1.2.3", "http", host);
    ClientIdentity.addForwarded(fields, "2001:db8::1", "https", host);
    ClientIdentity.addVia(fields, ClientIdentity.VIA_VALUE);
    if (c.hostRewrite()) {
      fields.set(HttpHeaderNames.HOST, "backend.test");
    }
  }

  /** The bytes the upstream codec writes for the case's request, along one path. */
  private static byte[] write(Case c, Path path) throws Exception {
    ClientRequest request = decode(c);
    if (path == Path.HEADERS) {
      request.headers(); // the head becomes header objects before any edit
    }
    edit(request, c);
    if (path == Path.RANGES_THEN_HEADERS_READ) {
      request.headers(); // someone read them after the edits (a rule, an h2 upstream)
    }
    assertThat(request.writesByRanges()).isEqualTo(path == Path.RANGES);
    EmbeddedChannel upstream = new EmbeddedChannel(new UpstreamCodec(8192, 65536));
    try {
      LastHttpContent last = new DefaultLastHttpContent(Unpooled.copiedBuffer(c.body(), StandardCharsets.US_ASCII));
      if (c.trailer()) {
        last.trailingHeaders().add("X-Sum", "1");
      }
      upstream.writeOutbound(request, last);
      ByteBuf all = Unpooled.buffer();
      Object out;
      while ((out = upstream.readOutbound()) != null) {
        all.writeBytes((ByteBuf) out);
        ((ByteBuf) out).release();
      }
      byte[] bytes = new byte[all.readableBytes()];
      all.readBytes(bytes);
      all.release();
      return bytes;
    } finally {
      assertThat(upstream.finishAndReleaseAll()).isFalse();
    }
  }

  /** The head as the parser reads it (request line, fields without OWS), and the body bytes as written. */
  private static String normalized(byte[] bytes) throws HeadParseException {
    ByteBuf buf = Unpooled.wrappedBuffer(bytes);
    HttpHead head = new HeadParser(true, 8192, 65536).parse(buf);
    assertThat(head).as(new String(bytes, StandardCharsets.ISO_8859_1)).isNotNull();
    StringBuilder sb = new StringBuilder().append(head.method(buf)).append(' ').append(head.target(buf))
        .append(" HTTP/").append(head.majorVersion()).append('.').append(head.minorVersion());
    for (int i = 0; i < head.fieldCount(); i++) {
      sb.append("\n").append(head.name(buf, i)).append(": ").append(head.value(buf, i));
    }
    buf.skipBytes(head.length());
    return sb.append("\n\n").append(buf.toString(StandardCharsets.ISO_8859_1)).toString();
  }
}
