package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RequestHeadScannerTest {
  private static int scan(String head) {
    ByteBuf buf = Unpooled.copiedBuffer(head, StandardCharsets.ISO_8859_1);
    try {
      return new RequestHeadScanner(1024).scan(buf);
    } finally {
      buf.release();
    }
  }

  @Test
  void cleanHeadIsOk() {
    assertThat(scan("GET / HTTP/1.1\r\nHost: a\r\n\r\n")).isEqualTo(RequestHeadScanner.OK);
  }

  @Test
  void incompleteHeadWaits() {
    assertThat(scan("GET / HTTP/1.1\r\nHost: a\r\n")).isEqualTo(RequestHeadScanner.INCOMPLETE);
  }

  @Test
  void whitespaceBeforeTheRequestLineIsRefused() {
    assertThat(scan(" GET / HTTP/1.1\r\nHost: a\r\n\r\n")).isEqualTo(RequestHeadScanner.LEADING_WHITESPACE);
    assertThat(scan("\r\n\tGET / HTTP/1.1\r\nHost: a\r\n\r\n")).isEqualTo(RequestHeadScanner.LEADING_WHITESPACE);
    assertThat(scan("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")).isEqualTo(RequestHeadScanner.OK);
  }

  @Test
  void bareCrIsRefusedAndACrAtTheEndOfTheBufferWaitsForTheNextByte() {
    assertThat(scan("GET\r\t/x HTTP/1.1\r\nHost: a\r\n\r\n")).isEqualTo(RequestHeadScanner.BARE_CR);
    assertThat(scan("GET /x HTTP/1.1\r\nHost: a\rb\r\n\r\n")).isEqualTo(RequestHeadScanner.BARE_CR);
    assertThat(scan("GET /x HTTP/1.1\r")).isEqualTo(RequestHeadScanner.INCOMPLETE);
  }

  @Test
  void theHttpNameIsCaseSensitive() {
    assertThat(scan("GET / HtTP/1.1\r\nHost: a\r\n\r\n")).isEqualTo(RequestHeadScanner.VERSION_CASE);
    assertThat(scan("GET / http/1.1\r\nHost: a\r\n\r\n")).isEqualTo(RequestHeadScanner.VERSION_CASE);
    assertThat(scan("GET / HTTP/1.1\r\nHost: a\r\n\r\n")).isEqualTo(RequestHeadScanner.OK);
    assertThat(scan("GET /HTTP/1.1 HTTP/1.0\r\nHost: a\r\n\r\n")).isEqualTo(RequestHeadScanner.OK);
  }

  @Test
  void obsFoldIsRefused() {
    assertThat(scan("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n")).isEqualTo(RequestHeadScanner.OBS_FOLD);
    assertThat(scan("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n")).isEqualTo(RequestHeadScanner.OBS_FOLD);
  }

  @Test
  void obsTextInFieldValuesIsAllowedButNotInTheRequestLine() {
    assertThat(scan("GET / HTTP/1.1\r\nCookie: n=caf\u00e9\u00ff\r\n\r\n")).isEqualTo(RequestHeadScanner.OK);
    assertThat(scan("GET /caf\u00e9 HTTP/1.1\r\nHost: a\r\n\r\n"))
        .isEqualTo(RequestHeadScanner.NON_ASCII_REQUEST_LINE);
  }

  @Test
  void controlCharactersAreRefused() {
    assertThat(scan("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n")).isEqualTo(RequestHeadScanner.CONTROL_CHAR);
    assertThat(scan("GET / HTTP/1.1\r\nX: a\u007fb\r\n\r\n")).isEqualTo(RequestHeadScanner.CONTROL_CHAR);
    assertThat(scan("GET /\u0001 HTTP/1.1\r\nHost: a\r\n\r\n")).isEqualTo(RequestHeadScanner.CONTROL_CHAR);
  }

  @Test
  void bodyBytesAfterTheHeadAreNotScanned() {
    assertThat(scan("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n\0\0")).isEqualTo(RequestHeadScanner.OK);
  }

  @Test
  void leadingEmptyLinesAreTolerated() {
    assertThat(scan("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")).isEqualTo(RequestHeadScanner.OK);
  }

  @Test
  void aHeadTricklingInIsScannedIncrementally() {
    RequestHeadScanner scanner = new RequestHeadScanner(1024);
    ByteBuf buf = Unpooled.buffer();
    try {
      String head = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
      for (int i = 0; i < head.length() - 2; i++) {
        buf.writeByte(head.charAt(i));
        assertThat(scanner.scan(buf)).isEqualTo(RequestHeadScanner.INCOMPLETE);
      }
      buf.writeByte('\r'); // a lone CR: the head is complete only with the byte after it
      assertThat(scanner.scan(buf)).isEqualTo(RequestHeadScanner.INCOMPLETE);
      buf.writeByte('\n');
      assertThat(scanner.scan(buf)).isEqualTo(RequestHeadScanner.OK);
    } finally {
      buf.release();
    }
  }

  @Test
  void tooLargeHeadIsReported() {
    assertThat(new RequestHeadScanner(16).scan(Unpooled.copiedBuffer(
        "GET /aaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\n", StandardCharsets.ISO_8859_1)))
        .isEqualTo(RequestHeadScanner.TOO_LARGE);
  }
}
