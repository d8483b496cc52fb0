package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
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
 * Framing invariants of the own head parser, over generated well-formed messages: the parse gives
 * back what was written; any split of the byte stream gives the same result; a head written forward
 * ({@link HeadWriter}) and parsed again is the same message without its hop-by-hop fields.
 */
class HeadParserPropertiesTest {

  /** A generated message: its head fields, and its body as chunks (null: framed by Content-Length). */
  record Model(boolean request, String startLine, List<String[]> fields, List<Integer> chunks, int length) {
    boolean chunked() {
      return chunks != null;
    }

    long bodyLength() {
      return chunked() ? chunks.stream().mapToLong(Integer::longValue).sum() : length;
    }

    byte[] bytes() {
      StringBuilder sb = new StringBuilder(startLine).append("\r\n");
      for (String[] field : fields) {
        sb.append(field[0]).append(':').append(field[1]).append("\r\n");
      }
      sb.append(chunked() ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + length + "\r\n");
      sb.append("\r\n");
      if (chunked()) {
        for (int size : chunks) {
          sb.append(Integer.toHexString(size)).append(size % 3 == 0 ? ";ext=v" : "").append("\r\n")
              .append("b".repeat(size)).append("\r\n");
        }
        sb.append("0\r\nX-Trailer: t\r\n\r\n");
      } else {
        sb.append("a".repeat(length));
      }
      return sb.toString().getBytes(StandardCharsets.ISO_8859_1);
    }
  }

  @Provide
  Arbitrary<Model> messages() {
    Arbitrary<String> token = Arbitraries.strings().withChars("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~")
        .ofMinLength(1).ofMaxLength(12)
        // Framing fields are the model's own; hop-by-hop names (and the test's X-Hop) are dropped by the
        // writer by design, so a generated one would not survive the forward round trip.
        .filter(name -> !List.of("content-length", "transfer-encoding", "host", "connection", "keep-alive",
            "proxy-connection", "te", "trailer", "upgrade", "x-hop").contains(name.toLowerCase()));
    Arbitrary<String> value = Arbitraries.strings().withCharRange((char) 0x21, (char) 0x7e).withChars(' ', '\t', '\u00e9')
        .ofMaxLength(30).map(String::strip).map(v -> v.replace("\t", " "));
    Arbitrary<String[]> field = Combinators.combine(token, value, Arbitraries.of("", " ", "  ", "\t"))
        .as((n, v, ows) -> new String[] {n, ows + v + (v.isEmpty() ? "" : ows)});
    Arbitrary<List<String[]>> fields = field.list().ofMaxSize(12);
    Arbitrary<String> requestLine = Combinators.combine(Arbitraries.of("GET", "POST", "PUT", "DELETE", "PATCH", "X-Custom"),
            Arbitraries.strings().withCharRange((char) 0x21, (char) 0x7e).ofMaxLength(40), Arbitraries.of("0", "1"))
        .as((m, t, minor) -> m + " /" + t + " HTTP/1." + minor);
    Arbitrary<String> statusLine = Combinators.combine(Arbitraries.integers().between(200, 599), Arbitraries.of("OK", "", "Not Found", "x y z"))
        .as((code, reason) -> "HTTP/1.1 " + code + (reason.isEmpty() ? "" : " " + reason));
    Arbitrary<List<Integer>> chunks = Arbitraries.integers().between(1, 300).list().ofMaxSize(5);
    return Combinators.combine(Arbitraries.of(true, false), requestLine, statusLine, fields,
            chunks.injectNull(0.5), Arbitraries.integers().between(0, 500))
        .as((request, rl, sl, f, c, n) -> {
          List<String[]> all = new ArrayList<>(f);
          if (request) {
            all.add(0, new String[] {"Host", " example.com"});
          }
          // RFC 9112 §6.1: an HTTP/1.0 message is never chunked (the parser refuses Transfer-Encoding in one).
          String start = request && c != null ? rl.replace(" HTTP/1.0", " HTTP/1.1") : rl;
          return new Model(request, request ? start : sl, all, c, n);
        });
  }

  /** Parses one message from {@code bytes} fed in pieces ending at {@code cuts}: head, body length, bytes used. */
  static String parse(byte[] bytes, boolean request, List<Integer> cuts) throws HeadParseException {
    HeadParser parser = new HeadParser(request, 8192, 64 * 1024);
    ByteBuf buf = Unpooled.buffer();
    try {
      int fed = 0;
      HttpHead head = null;
      ChunkedFramer framer = null;
      long body = 0;
      List<Integer> ends = new ArrayList<>(cuts);
      ends.add(bytes.length);
      String result = null;
      String described = null;
      for (int end : ends) {
        if (end <= fed) {
          continue;
        }
        buf.writeBytes(bytes, fed, end - fed);
        fed = end;
        if (head == null) {
          head = parser.parse(buf);
          if (head == null) {
            continue;
          }
          described = describe(head, buf);
          buf.skipBytes(head.length());
          framer = head.chunked() ? new ChunkedFramer(8192) : null;
        }
        if (framer != null) {
          buf.skipBytes(framer.consume(buf, buf.readerIndex(), buf.writerIndex()));
          if (framer.done()) {
            result = described + " body=" + framer.dataBytes() + " chunks=" + framer.chunks();
            break;
          }
        } else if (buf.readableBytes() >= head.contentLength()) {
          body = head.contentLength();
          buf.skipBytes((int) body);
          result = described + " body=" + body;
          break;
        }
      }
      return result + " rest=" + buf.readableBytes();
    } finally {
      buf.release();
    }
  }

  static String describe(HttpHead head, ByteBuf buf) {
    StringBuilder sb = new StringBuilder();
    sb.append(head.isRequest() ? head.method(buf) + " " + head.target(buf) : Integer.toString(head.status()))
        .append(" 1.").append(head.minorVersion());
    for (int i = 0; i < head.fieldCount(); i++) {
      sb.append(" [").append(head.name(buf, i)).append('=').append(head.value(buf, i)).append(']');
    }
    return sb.toString();
  }

  @Property(tries = 300)
  void parse_gives_back_the_written_message(@ForAll("messages") Model model) throws Exception {
    byte[] bytes = model.bytes();
    ByteBuf buf = Unpooled.wrappedBuffer(bytes);
    try {
      HttpHead head = new HeadParser(model.request(), 8192, 64 * 1024).parse(buf);
      assertThat(head).isNotNull();
      assertThat(head.fieldCount()).isEqualTo(model.fields().size() + 1);
      for (int i = 0; i < model.fields().size(); i++) {
        assertThat(head.name(buf, i)).isEqualTo(model.fields().get(i)[0]);
        assertThat(head.value(buf, i)).isEqualTo(model.fields().get(i)[1].strip());
      }
      assertThat(head.chunked()).isEqualTo(model.chunked());
      if (!model.chunked()) {
        assertThat(head.contentLength()).isEqualTo(model.length());
      }
      assertThat(parse(bytes, model.request(), List.of())).endsWith(
          "body=" + model.bodyLength() + (model.chunked() ? " chunks=" + model.chunks().size() : "") + " rest=0");
    } finally {
      buf.release();
    }
  }

  @Property(tries = 300)
  void any_split_of_the_stream_gives_the_same_result(
      @ForAll("messages") Model model, @ForAll("cuts") List<Integer> cuts) throws Exception {
    byte[] bytes = model.bytes();
    List<Integer> points = cuts.stream().map(c -> c % (bytes.length + 1)).sorted().toList();
    assertThat(parse(bytes, model.request(), points)).isEqualTo(parse(bytes, model.request(), List.of()));
  }

  @Provide
  Arbitrary<List<Integer>> cuts() {
    return Arbitraries.integers().between(0, 100_000).list().ofMaxSize(20);
  }

  @Property(tries = 300)
  void a_head_written_forward_parses_to_the_same_message_without_hop_by_hop_fields(
      @ForAll("messages") Model model, @ForAll boolean hopByHop) throws Exception {
    byte[] bytes = model.bytes();
    if (hopByHop) {
      String text = new String(bytes, StandardCharsets.ISO_8859_1);
      int at = text.indexOf("\r\n") + 2;
      text = text.substring(0, at) + "Connection: keep-alive, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n"
          + text.substring(at);
      bytes = text.getBytes(StandardCharsets.ISO_8859_1);
    }
    ByteBuf in = Unpooled.wrappedBuffer(bytes);
    ByteBuf out = Unpooled.buffer();
    try {
      HttpHead head = new HeadParser(model.request(), 8192, 64 * 1024).parse(in);
      HeadWriter.write(head, in, out, "Via: 1.1 gatehouse\r\n");
      in.skipBytes(head.length());
      out.writeBytes(in);
      byte[] forwarded = new byte[out.readableBytes()];
      out.readBytes(forwarded);
      String again = parse(forwarded, model.request(), List.of());
      String original = parse(model.bytes(), model.request(), List.of());
      assertThat(again).doesNotContainIgnoringCase("[connection=").doesNotContain("[X-Hop=").doesNotContain("[TE=")
          .contains("[Via=1.1 gatehouse]");
      assertThat(again.replace(" [Via=1.1 gatehouse]", "")).isEqualTo(original);
    } finally {
      in.release();
      out.release();
    }
  }
}
