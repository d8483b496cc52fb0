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

  record Case(String head, boolean chunked, String body, boolean trailer, boolean hostRewrite, boolean absoluteForm) {}

  @Provide
  Arbitrary<Case> cases() {
    Arbitrary<String> name = Arbitraries.oneOf(
        Arbitraries.strings().withChars("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~")
            .ofMinLength(1).ofMaxLength(10)
            .filter(n -> !List.of("content-length", "transfer-encoding", "host").contains(n.toLowerCase())),
        Arbitraries.of("Keep-Alive", "proxy-connection", "TE", "Trailer", "Upgrade", "Via", "X-Hop", "x-hop",
            "X-Forwarded-For", "x-forwarded-proto", "Forwarded", "Expect", "User-Agent", "Cookie"));
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
            Arbitraries.of(false, true), Arbitraries.of(false, true))
        .as((line, fields, conn, chunked, body, trailer, rewrite, absolute) -> {
          List<String> lines = new ArrayList<>(fields);
          lines.add(lines.size() / 2, "Host: shop.test");
          if (conn != null) {
            lines.add(lines.size() / 2, conn);
          }
          lines.add(chunked ? "Transfer-Encoding: chunked" : "Content-Length: " + body.length());
          String head = line + "\r\n" + String.join("", lines.stream().map(l -> l + "\r\n").toList()) + "\r\n";
          return new Case(head, chunked, body, trailer && chunked, rewrite, absolute);
        });
  }

  @Property(tries = 500)
  void a_request_forwarded_by_ranges_is_the_message_the_header_path_writes(@ForAll("cases") Case c) throws Exception {
    String expected = normalized(write(c, Path.HEADERS));
    assertThat(normalized(write(c, Path.RANGES))).isEqualTo(expected);
    assertThat(normalized(write(c, Path.RANGES_THEN_HEADERS_READ))).isEqualTo(expected);
  }

  @Property(tries = 300)
  void hop_by_hop_flags_of_the_head_are_those_of_its_headers(@ForAll("cases") Case c) throws Exception {
    ClientRequest fromHead = decode(c);
    ClientRequest fromHeaders = decode(c);
    assertThat(fromHead.hopByHopFlags()).isEqualTo(HopByHop.scan(fromHeaders.headers()));
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

  /** The edits relay.Framing and reverse.ReverseProxyHandler make, in their order. */
  private static void edit(HttpRequest request, Case c) {
    MessageFields fields = MessageFields.of(request);
    int flags = ((ClientRequest) request).hopByHopFlags();
    ((ClientRequest) request).stripHopByHop();
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
    ClientIdentity.addVia(fields);
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
