package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Headers;
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
 * An HTTP/2 request's head built by {@link Http2RequestHead} is the HTTP/1.1 head of RFC 9113
 * §8.3.1 and §8.2.3 (written here independently: request line, {@code host} from
 * {@code :authority}, the fields in order, the cookies joined last, chunked for a body without a
 * length), and its index is exactly what {@link HeadParser} makes of those bytes: the request path
 * and the upstream codec read it as they read an HTTP/1 request.
 */
class Http2RequestHeadPropertiesTest {

  record Case(String method, String path, String authority, List<String[]> fields, boolean endStream) {}

  @Provide
  Arbitrary<Case> cases() {
    Arbitrary<String> name = Arbitraries.oneOf(
        Arbitraries.strings().withChars("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~").ofMinLength(1).ofMaxLength(10)
            .filter(n -> !List.of("host", "cookie", "content-length", "transfer-encoding", "connection", "keep-alive",
                "proxy-connection", "upgrade", "trailer").contains(n) && !n.startsWith("x-http2-")),
        Arbitraries.of("cookie", "te", "accept", "via", "x-forwarded-for", "expect", "user-agent", "host"));
    Arbitrary<String> value = Arbitraries.strings().withCharRange((char) 0x21, (char) 0x7e).withChars(' ', '\t', '\u00e9')
        .ofMaxLength(20).map(v -> v.stripLeading());
    Arbitrary<String[]> field = Combinators.combine(name, value).as((n, v) -> new String[] {n, v});
    return Combinators.combine(Arbitraries.of("GET", "POST", "PUT", "OPTIONS", "BREW"),
            Arbitraries.of("/", "/a/b?c=d", "/%20x"), Arbitraries.of("shop.test", "shop.test:8443"),
            field.list().ofMaxSize(8), Arbitraries.of(false, true), Arbitraries.integers().between(-1, 99))
        .as((method, path, authority, fields, endStream, length) -> {
          List<String[]> all = new ArrayList<>();
          for (String[] f : fields) {
            all.add(f[0].equals("host") ? new String[] {"host", authority} : f); // §8.3.1: host may repeat :authority
          }
          if (length >= 0) {
            all.add(all.size() / 2, new String[] {"content-length", Integer.toString(length)});
          }
          return new Case(method, path, authority, all, endStream);
        });
  }

  @Property(tries = 500)
  void the_head_is_the_http1_head_and_indexed_as_the_parser_indexes_it(@ForAll("cases") Case c) throws Exception {
    Http2Headers headers = new DefaultHttp2Headers(false).method(c.method()).scheme("https").path(c.path())
        .authority(c.authority());
    for (String[] f : c.fields()) {
      headers.add(f[0], f[1]);
    }
    ClientRequest request = Http2RequestHead.of(headers, c.endStream());
    ByteBuf bytes = request.headBytes();
    String written = bytes.toString(0, request.head().length(), StandardCharsets.ISO_8859_1);
    assertThat(written).isEqualTo(expected(c));
    HttpHead parsed = new HeadParser(true, 8192, 65536).parse(Unpooled.wrappedBuffer(written.getBytes(StandardCharsets.ISO_8859_1)));
    assertThat(facts(request.head())).isEqualTo(facts(parsed));
    assertThat(request.uri()).isEqualTo(c.path());
    assertThat(request.method().name()).isEqualTo(c.method());
  }

  /** RFC 9113 §8.3.1, §8.2.3, §8.1, written from the RFC rather than from the builder. */
  private static String expected(Case c) {
    StringBuilder head = new StringBuilder(c.method() + " " + c.path() + " HTTP/1.1\r\nhost: " + c.authority() + "\r\n");
    List<String> cookies = new ArrayList<>();
    boolean length = false;
    for (String[] f : c.fields()) {
      if (f[0].equals("cookie")) {
        cookies.add(f[1]);
      } else if (!f[0].equals("host")) {
        head.append(f[0]).append(": ").append(f[1]).append("\r\n");
        length |= f[0].equals("content-length");
      }
    }
    if (!cookies.isEmpty()) {
      head.append("cookie: ").append(String.join("; ", cookies)).append("\r\n");
    }
    if (!c.endStream() && !length) {
      head.append("transfer-encoding: chunked\r\n");
    }
    return head.append("\r\n").toString();
  }

  private static List<Object> facts(HttpHead h) {
    List<Object> out = new ArrayList<>(List.of(h.isRequest(), h.skipped(), h.length(), h.majorVersion(), h.minorVersion(),
        h.methodStart(), h.methodEnd(), h.targetStart(), h.targetEnd(), h.fieldCount(), h.contentLength(),
        h.hasTransferEncoding(), h.chunked(), h.onlyChunked(), h.hasOtherCodings(), h.connection(), h.hostCount(),
        h.hasUpgrade(), h.fieldsPresent()));
    for (int i = 0; i < h.fieldCount(); i++) {
      out.addAll(List.of(h.nameStart(i), h.nameEnd(i), h.valueStart(i), h.valueEnd(i)));
    }
    return out;
  }
}
