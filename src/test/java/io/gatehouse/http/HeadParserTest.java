package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The own head parser and chunked framer on examples: limits, trickling input, the facts it reads. */
class HeadParserTest {

  private static ByteBuf bytes(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.ISO_8859_1);
  }

  @Test
  void a_head_trickling_in_is_found_once_complete() throws Exception {
    String head = "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close, X-Hop\r\n\r\n";
    HeadParser parser = new HeadParser(true, 1024, 4096);
    ByteBuf buf = Unpooled.buffer();
    try {
      HttpHead parsed = null;
      for (int i = 0; i < head.length(); i++) {
        assertThat(parsed).as("complete only at the last byte").isNull();
        buf.writeByte(head.charAt(i));
        parsed = parser.parse(buf);
      }
      assertThat(parsed).isNotNull();
      assertThat(parsed.length()).isEqualTo(head.length());
      assertThat(parsed.method(buf)).isEqualTo("GET");
      assertThat(parsed.target(buf)).isEqualTo("/a");
      assertThat(parsed.hostCount()).isEqualTo(1);
      assertThat(parsed.keepAlive()).isFalse();
      assertThat(parsed.connection() & HttpHead.CONNECTION_NAMES_FIELDS).isNotZero();
    } finally {
      buf.release();
    }
  }

  @Test
  void limits_refuse_a_long_start_line_and_a_large_head_before_they_end() {
    ByteBuf line = bytes("GET /" + "a".repeat(200));
    ByteBuf head = bytes("GET / HTTP/1.1\r\nX-A: " + "b".repeat(500));
    try {
      assertThatThrownBy(() -> new HeadParser(true, 100, 4096).parse(line))
          .isInstanceOfSatisfying(HeadParseException.class,
              e -> assertThat(e.kind()).isEqualTo(HeadParseException.Kind.LINE_TOO_LONG));
      assertThatThrownBy(() -> new HeadParser(true, 100, 400).parse(head))
          .isInstanceOfSatisfying(HeadParseException.class,
              e -> assertThat(e.kind()).isEqualTo(HeadParseException.Kind.HEAD_TOO_LARGE));
    } finally {
      line.release();
      head.release();
    }
  }

  @Test
  void framing_facts_are_read_in_the_same_pass() throws Exception {
    ByteBuf buf = bytes("HTTP/1.1 200 OK\r\ncontent-LENGTH: 0012\r\nConnection: keep-alive\r\n\r\n");
    try {
      HttpHead head = new HeadParser(false, 1024, 4096).parse(buf);
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.contentLength()).isEqualTo(12);
      assertThat(head.chunked()).isFalse();
      assertThat(head.keepAlive()).isTrue();
    } finally {
      buf.release();
    }
  }

  @Test
  void the_hop_by_hop_fields_present_are_noted_in_the_same_pass() throws Exception {
    ByteBuf buf = bytes("GET / HTTP/1.1\r\nHost: a\r\nTE: trailers\r\nX-TE: 1\r\nKeep-Alive: 5\r\n"
        + "PROXY-Connection: close\r\nTrailer: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\nUpgrades: no\r\n\r\n");
    try {
      HttpHead head = new HeadParser(true, 1024, 4096).parse(buf);
      assertThat(head.hopByHopFields()).isEqualTo(HopByHop.TE_PRESENT | HopByHop.KEEP_ALIVE_PRESENT
          | HopByHop.PROXY_CONNECTION_PRESENT | HopByHop.TRAILER_PRESENT | HopByHop.UPGRADE_PRESENT
          | HopByHop.CONNECTION_PRESENT);
      assertThat(head.hasUpgrade()).isTrue();
      assertThat(HopByHop.upgradeOffered(HopByHop.scan(head))).isTrue();
    } finally {
      buf.release();
    }
    ByteBuf plain = bytes("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nServer: x\r\n\r\n");
    try {
      HttpHead head = new HeadParser(false, 1024, 4096).parse(plain);
      assertThat(head.hopByHopFields()).isZero();
      assertThat(HopByHop.scan(head)).isEqualTo(HopByHop.CONTENT_LENGTH);
    } finally {
      plain.release();
    }
    ByteBuf noted = bytes("HTTP/1.1 200 OK\r\nDATE: Fri, 04 Dec 2026 19:00:00 GMT\r\nvia: 1.1 a\r\nConnection: close\r\n\r\n");
    try {
      HttpHead head = new HeadParser(false, 1024, 4096).parse(noted);
      assertThat(head.hasDate()).isTrue();
      assertThat(head.hasVia()).isTrue();
      // Date and Via are noted beside the hop-by-hop fields, never taken for one of them
      assertThat(head.hopByHopFields()).isEqualTo(HopByHop.CONNECTION_PRESENT);
      assertThat(HopByHop.scan(head)).isEqualTo(HopByHop.CONNECTION_PRESENT | HopByHop.CONNECTION_CLOSE);
    } finally {
      noted.release();
    }
  }

  @Test
  void date_and_via_are_noted_only_by_their_exact_names() throws Exception {
    ByteBuf buf = bytes("HTTP/1.1 200 OK\r\nDates: x\r\nVias: y\r\nX-Date: z\r\nvi: 1\r\nDat: 2\r\nServer: s\r\n\r\n");
    try {
      HttpHead head = new HeadParser(false, 1024, 4096).parse(buf);
      assertThat(head.hasDate()).isFalse();
      assertThat(head.hasVia()).isFalse();
      assertThat(head.fieldsPresent()).isZero();
    } finally {
      buf.release();
    }
  }

  @Test
  void heads_of_many_fields_and_the_heads_after_them_are_indexed_whole() throws Exception {
    // The working index is reused per thread and grows past 16, 64 and 256 fields: every head keeps
    // its own exact index, whatever the heads before and after it on the same thread.
    HeadParser parser = new HeadParser(true, 1024, 1 << 20);
    int[] counts = {300, 255, 1, 70, 20, 2}; // 255 + Host: exactly the kept index (1024 ints)
    java.util.List<ByteBuf> bufs = new java.util.ArrayList<>();
    java.util.List<HttpHead> heads = new java.util.ArrayList<>();
    try {
      for (int h = 0; h < counts.length; h++) {
        int count = counts[h];
        // a Host of another length for each head: every later head's offsets differ from this one's
        StringBuilder head = new StringBuilder("GET / HTTP/1.1\r\nHost: " + "a".repeat(h + 1) + "\r\n");
        for (int i = 0; i < count; i++) {
          head.append("X-F").append(i).append(": v").append(i).append("\r\n");
        }
        ByteBuf buf = bytes(head.append("\r\n").toString());
        bufs.add(buf);
        heads.add(parser.parse(buf));
      }
      for (int h = 0; h < counts.length; h++) { // checked after all the parses: no head shares an index
        HttpHead parsed = heads.get(h);
        assertThat(parsed.fieldCount()).isEqualTo(counts[h] + 1);
        for (int i = 0; i < counts[h]; i++) {
          assertThat(parsed.name(bufs.get(h), i + 1)).isEqualTo("X-F" + i);
          assertThat(parsed.value(bufs.get(h), i + 1)).isEqualTo("v" + i);
        }
      }
    } finally {
      bufs.forEach(ByteBuf::release);
    }
  }

  @Test
  void content_length_that_overflows_is_refused() {
    ByteBuf buf = bytes("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n");
    try {
      assertThatThrownBy(() -> new HeadParser(false, 1024, 4096).parse(buf)).hasMessageContaining("overflows");
    } finally {
      buf.release();
    }
  }

  @Test
  void transfer_encoding_in_an_http_1_0_message_is_refused() {
    // RFC 9112 §6.1 (found by HeadParserFuzzTest: Netty's request decoder refuses it, the parser took it)
    for (String head : new String[] {
      "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
      "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    }) {
      assertRefused(head.startsWith("POST"), head, "Transfer-Encoding in an HTTP/1.0 message");
    }
  }

  @Test
  void transfer_codings_are_read_by_their_grammar() throws Exception {
    // RFC 9110 §10.1.4 transfer-coding = token *( OWS ";" OWS token BWS "=" BWS ( token / quoted-string ) ),
    // in a list that may have empty elements (§5.6.1). Found by HeadParserFuzzTest: a garbled coding
    // before a last one that was not chunked made a response read until close, where Netty refused it.
    for (String codings : new String[] {
      "chunked", "gzip, chunked", "gzip;level=1 , chunked", "x ; a = \"b c\\\"\" ;d=e,chunked", ",, chunked", "gzip",
    }) {
      HttpHead head = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: " + codings + "\r\n\r\n");
      assertThat(head.hasTransferEncoding()).as(codings).isTrue();
    }
    // The fact the relay refuses a response by: a coding it would pass on still applied.
    assertThat(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, \r\n\r\n").hasOtherCodings()).isFalse();
    assertThat(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").hasOtherCodings()).isTrue();
    assertThat(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;x=1\r\n\r\n").hasOtherCodings()).isTrue();
    // A quoted-string may hold a comma (§5.6.4): it does not split the list.
    assertThat(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: x;a=\"b,c\", chunked\r\n\r\n").chunked()).isTrue();
    assertThat(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: x;a=\"b,chunked\"\r\n\r\n").chunked()).isFalse();
    // Empty list elements are ignored (§5.6.1), in a field or as a whole later field: chunked stays last.
    // Found by HeadParserFuzzTest: "chunked," made a response read until close.
    for (String fields : new String[] {
      "Transfer-Encoding: chunked,", "Transfer-Encoding: chunked , ,", "Transfer-Encoding: gzip, chunked,",
      "Transfer-Encoding: chunked\r\nTransfer-Encoding: ,", "Transfer-Encoding: gzip\r\nTransfer-Encoding: , chunked",
    }) {
      assertThat(parse("HTTP/1.1 200 OK\r\n" + fields + "\r\n\r\n").chunked()).as(fields).isTrue();
    }
    for (String fields : new String[] {"Transfer-Encoding: chunked, gzip,", "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip"}) {
      assertThat(parse("HTTP/1.1 200 OK\r\n" + fields + "\r\n\r\n").chunked()).as(fields).isFalse();
    }
    for (String codings : new String[] {
      "g/zip, chunked", "chunked/1.1", "chunked;", "chunked;a", "chunked;a=", "\"chunked\"", "gz\u00e9ip, chunked",
      "chunked;a=\"open", "x;a=\"open, chunked",
    }) {
      assertRefused(false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: " + codings + "\r\n\r\n", "invalid Transfer-Encoding");
    }
  }

  @Test
  void chunked_applied_twice_is_refused_by_the_parser_for_requests_and_responses_alike() {
    // RFC 9112 §6.1: a sender MUST NOT apply chunked more than once; across fields too (RFC 9110 §5.3).
    for (String fields : new String[] {
      "Transfer-Encoding: chunked, chunked", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
      "Transfer-Encoding: chunked, gzip, chunked", "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip,chunked",
    }) {
      for (boolean request : new boolean[] {true, false}) {
        String head = (request ? "POST / HTTP/1.1\r\nHost: a\r\n" : "HTTP/1.1 200 OK\r\n") + fields + "\r\n\r\n";
        assertRefused(request, head, "chunked applied more than once");
      }
    }
  }
  /** The parser ({@code request} or response) refuses {@code head} with exactly {@code message}. */
  private static void assertRefused(boolean request, String head, String message) {
    ByteBuf buf = bytes(head);
    try {
      assertThatThrownBy(() -> new HeadParser(request, 1024, 4096).parse(buf)).as(head).hasMessage(message);
    } finally {
      buf.release();
    }
  }

  private static HttpHead parse(String head) throws Exception {
    ByteBuf buf = bytes(head);
    try {
      HttpHead parsed = new HeadParser(false, 1024, 4096).parse(buf);
      assertThat(parsed).as(head).isNotNull();
      return parsed;
    } finally {
      buf.release();
    }
  }

  @Test
  void chunked_framer_finds_the_end_across_any_split_and_stops_there() throws Exception {
    String body = "5;name=\"v\"\r\nhello\r\n1A\r\n" + "x".repeat(26) + "\r\n0\r\nX-T: 1\r\n\r\nNEXT";
    for (int split = 0; split <= body.length(); split++) {
      ChunkedFramer framer = new ChunkedFramer(1024);
      ByteBuf buf = bytes(body);
      try {
        int used = framer.consume(buf, 0, split);
        used += framer.consume(buf, used, body.length());
        assertThat(framer.done()).isTrue();
        assertThat(used).isEqualTo(body.length() - "NEXT".length());
        assertThat(framer.dataBytes()).isEqualTo(31);
        assertThat(framer.chunks()).isEqualTo(2);
      } finally {
        buf.release();
      }
    }
  }

  @Test
  void chunked_framer_reads_extensions_by_their_grammar() throws Exception {
    String[] good = {
      "5;a\r\nhello\r\n0\r\n\r\n",
      "5 ; a = b ;c\r\nhello\r\n0\r\n\r\n", // BWS around ';' and '='
      "5;a=\"x; \\\"y\\\" =\";b\r\nhello\r\n0\r\n\r\n", // a quoted value with ';', '=' and quoted pairs
    };
    for (String body : good) {
      ByteBuf buf = bytes(body);
      try {
        ChunkedFramer framer = new ChunkedFramer(1024);
        assertThat(framer.consume(buf, 0, buf.writerIndex())).as(body).isEqualTo(body.length());
        assertThat(framer.done()).as(body).isTrue();
        assertThat(framer.dataBytes()).isEqualTo(5);
      } finally {
        buf.release();
      }
    }
  }

  @Test
  void a_status_code_of_fewer_than_three_digits_is_an_invalid_status_code() {
    // RFC 9112 §4: status-code = 3DIGIT (found by HeadParserFuzzTest: Netty takes "2" as status 2)
    for (String head : new String[] {"HTTP/1.1 2\r\n\r\n", "HTTP/1.1 20\r\n\r\n", "HTTP/1.1 2 OK\r\n\r\n"}) {
      assertRefused(false, head, "invalid status code");
    }
  }

  @Test
  void an_empty_line_before_a_status_line_is_refused_by_name() {
    // RFC 9112 §2.2 (found by HeadParserFuzzTest: Netty skips them); a request may have them.
    for (String head : new String[] {"\r\nHTTP/1.1 200 OK\r\n\r\n", "\n\r\nHTTP/1.1 200 OK\r\n\r\n"}) {
      assertRefused(false, head, "empty line before the status line");
    }
  }

  @Test
  void a_bare_cr_in_the_trailer_section_is_named_as_such() {
    // Found by HeadParserFuzzTest: the differential judges a trailer refusal at the section's end.
    for (String body : new String[] {"0\r\nX: a\rb\r\n\r\n", "0\r\nX: a\r\n\rX"}) {
      ByteBuf buf = bytes(body);
      try {
        assertThatThrownBy(() -> new ChunkedFramer(1024).consume(buf, 0, buf.writerIndex())).as(body)
            .hasMessage("bare CR in trailer section");
      } finally {
        buf.release();
      }
    }
  }

  @Test
  void chunked_framer_refuses_what_could_be_read_two_ways() {
    String[] bad = {
      "5\nhello\r\n0\r\n\r\n", // bare LF after the size
      "5\r\nhello\n0\r\n\r\n", // bare LF after the data
      "5\r\nhelloX\r\n0\r\n\r\n", // data longer than its size
      "-5\r\nhello\r\n0\r\n\r\n", // not a size
      "8000000000000000\r\n", // over a signed 64-bit length
      "5;a\0b\r\nhello\r\n0\r\n\r\n", // control byte in an extension
      "5;ext==1\r\nhello\r\n0\r\n\r\n", // a value that is neither token nor quoted-string
      "5;\r\nhello\r\n0\r\n\r\n", // an extension without a name
      "5;a=\"b\r\nhello\r\n0\r\n\r\n", // an unterminated quoted value
      "5;a=b c\r\nhello\r\n0\r\n\r\n", // a second word without ';'
      "5 \r\nhello\r\n0\r\n\r\n", // whitespace after the size without an extension
      "5;a \r\nhello\r\n0\r\n\r\n", // whitespace after an extension's name at the line's end
      "5;a=b\t\r\nhello\r\n0\r\n\r\n", // whitespace after an extension's value at the line's end
      "0\r\nX-T : 1\r\n\r\n", // whitespace before a trailer colon
      "0\r\nX-T: 1\r\n folded\r\n\r\n", // obs-fold in a trailer
    };
    for (String body : bad) {
      ByteBuf buf = bytes(body);
      try {
        assertThatThrownBy(() -> new ChunkedFramer(1024).consume(buf, 0, buf.writerIndex()))
            .as(body).isInstanceOf(HeadParseException.class);
      } finally {
        buf.release();
      }
    }
  }
}
