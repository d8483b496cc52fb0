package io.gatehouse.http;

import io.gatehouse.http.HeadDifferential.End;
import io.gatehouse.http.HeadDifferential.Outcome;

/**
 * Where Gatehouse's own parser and Netty's decoder (as Gatehouse configures it) disagree on
 * purpose, each with why. Every entry is a case where the own parser is the stricter one: it refuses
 * a message Netty would accept (or repair), after accepting the same messages before it. Nothing
 * here lets the own parser accept what Netty refuses, or frame a message differently, with four
 * exceptions that the RFC decides and that are checked against Netty itself
 * ({@link #laterMinorVersionWithTransferEncoding}, {@link #whitespaceBeforeSemicolonNettyRefuses},
 * {@link #chunkedNotFinalInResponse}, {@link #obsTextInQuotedExtensionNettyRefuses}).
 */
final class KnownDifferences {
  private KnownDifferences() {}

  static boolean explained(byte[] data, boolean requests, Outcome own, Outcome netty) {
    if (!requests && laterMinorVersionWithTransferEncoding(data, own, netty)) {
      return true;
    }
    if (whitespaceBeforeSemicolonNettyRefuses(data, requests, own, netty)) {
      return true;
    }
    if (!requests && chunkedNotFinalInResponse(data, own, netty)) {
      return true;
    }
    if (obsTextInQuotedExtensionNettyRefuses(data, requests, own, netty)) {
      return true;
    }
    if (requests && connectWithZerosAsContentLength(data, own, netty)) {
      return true;
    }
    if (!requests && own.messages().equals(netty.messages())
        && java.util.EnumSet.of(own.end(), netty.end()).equals(java.util.EnumSet.of(End.WAITING_HEAD, End.FAILED))) {
      // The upstream closed inside a head: Netty reports it as a failure or not depending on whether
      // the status line was complete; to the relay either way is "closed without a response": 502.
      return true;
    }
    if (own.end() == End.WAITING_HEAD && netty.end() == End.FAILED && own.messages().equals(netty.messages())) {
      // Netty refuses some heads before they are complete (a line that cannot become valid); the own
      // parser judges a head once it is complete (bounded by the head size limit and the header timeout). Nothing
      // is accepted meanwhile; and completed, the head must be refused too:
      byte[] completed = java.util.Arrays.copyOf(data, data.length + 4);
      System.arraycopy(new byte[] {'\r', '\n', '\r', '\n'}, 0, completed, data.length, 4);
      return HeadDifferential.gatehouse(completed, requests).end() == End.FAILED;
    }
    if (own.end() == End.FAILED && netty.end() == End.IN_BODY && own.messages().equals(netty.messages())
        && own.reason() != null && own.reason().startsWith("body: ")) {
      // The own framer refuses a chunk line at its first bad byte; Netty reads the whole line first
      // (and a trailer line, the whole trailer section). Completed, Netty must refuse it too:
      byte[] end = own.reason().contains("trailer") ? new byte[] {'\r', '\n', '\r', '\n'} : new byte[] {'\r', '\n'};
      byte[] completed = java.util.Arrays.copyOf(data, data.length + end.length);
      System.arraycopy(end, 0, completed, data.length, end.length);
      if (HeadDifferential.netty(completed, requests).end() == End.FAILED) {
        return true;
      }
      // Otherwise Netty took the line: only a listed stricter rule below explains that.
    }
    if (own.end() != End.FAILED || own.reason() == null) {
      return false;
    }
    if (netty.messages().size() < own.messages().size()
        || !netty.messages().subList(0, own.messages().size()).equals(own.messages())) {
      return false;
    }
    if (own.reason().equals("body: bare CR in trailer section")) {
      return trailerFieldNettyDrops(data, own.refusedAt());
    }
    if (own.reason().equals("body: invalid chunk extension") || own.reason().equals("body: invalid chunk size")
        || own.reason().equals("body: whitespace at the end of a chunk line")) {
      return extensionNettySkips(data, own.refusedAt());
    }
    if (!requests && own.reason().equals("invalid status line") && statusLineWhitespaceNettySplits(data, own.refusedAt(), netty)) {
      return true;
    }
    if (!requests && own.reason().equals("invalid HTTP version") && own.refusedAt() >= 0 && isWhitespace(data, own.refusedAt())
        && statusLineWhitespaceNettySplits(data, own.refusedAt(), netty)) {
      // Nine or more whitespace bytes before the status line put SP where the own parser expects the
      // one after "HTTP/x.y", so it reads the first eight as the version: the same case as above.
      return true;
    }
    if (!requests && own.reason().equals("invalid HTTP version") && statusVersionInOtherCase(data, own.refusedAt())) {
      // RFC 9112 §2.3: HTTP-name is "HTTP", case-sensitive; Netty's response decoder takes "hTTP/1.1"
      // (the request side refuses it too: 400).
      return true;
    }
    if (own.reason().equals("multiple Content-Length fields") && versionAtMostHttp10(data, own.refusedAt(), requests)) {
      // RFC 9112 §6.3 item 5: differing Content-Length values make the framing invalid, an
      // unrecoverable error (400; from an upstream 502), whatever the version. Netty checks that only
      // from HTTP/1.1 on: in an HTTP/1.0 (or earlier) message it takes the first value.
      return true;
    }
    return requests ? requestStricter(own.reason(), data, own.refusedAt()) : responseStricter(own.reason());
  }

  /** Whether the refused head's start line names HTTP/1.0 or an earlier version (Netty's "HTTP/1.0 or earlier"). */
  private static boolean versionAtMostHttp10(byte[] data, int refusedAt, boolean requests) {
    if (refusedAt < 0) {
      return false;
    }
    String version;
    if (requests) {
      byte[] line = requestLine(data, refusedAt);
      if (line.length < 8) {
        return false;
      }
      version = new String(line, line.length - 8, 8, java.nio.charset.StandardCharsets.ISO_8859_1);
    } else {
      if (refusedAt + 8 > data.length) {
        return false;
      }
      version = new String(data, refusedAt, 8, java.nio.charset.StandardCharsets.ISO_8859_1);
    }
    return version.matches("HTTP/0\\.[0-9]|HTTP/1\\.0");
  }

  /**
   * Netty honours Transfer-Encoding in a response only if its version is exactly HTTP/1.1 and
   * refuses it in "HTTP/1.2". RFC 9112 §2.3: a recipient reads a later minor version as the highest
   * it implements (1.1), so its Transfer-Encoding frames the body (§6.1, §6.3): chunked, or until
   * the connection closes. Explained only when the own parser reads the bytes alike with each such
   * status line made HTTP/1.1, and Netty, given those, frames them exactly as the own parser did, or
   * differs from it only as this class explains.
   */
  private static boolean laterMinorVersionWithTransferEncoding(byte[] data, Outcome own, Outcome netty) {
    if (netty.end() != End.FAILED) {
      return false;
    }
    // Every status line in a later minor version, as HTTP/1.1 (a start line begins the input or a line).
    byte[] asHttp11 = data.clone();
    boolean changed = false;
    for (int i = 0; i + 9 <= data.length; i++) {
      if ((i == 0 || data[i - 1] == '\n')
          && new String(data, i, 7, java.nio.charset.StandardCharsets.ISO_8859_1).equals("HTTP/1.")
          && data[i + 7] >= '2' && data[i + 7] <= '9' && data[i + 8] == ' ') {
        asHttp11[i + 7] = '1';
        changed = true;
      }
    }
    // E.g. a later response the own parser refuses as stricter ("HTTP/1.1 1 4" has no three-digit
    // status, RFC 9112 §4). Those bytes have no later minor version: this rule is not met again.
    return changed && explainedOnceRewritten(asHttp11, false, own);
  }

  /**
   * RFC 9112 §6.3 item 4: a response whose Transfer-Encoding names chunked, but not as the final
   * coding ("chunked, gzip"; or "chunked" in one field and another coding in a later field of the
   * same head, RFC 9110 §5.3), is read until the connection closes; the own parser does so. Netty
   * refuses it ("chunked must be the last encoding"), a rule §6.3 sets for requests only (400 there,
   * which the own parser answers too). Read until close, the body ends the connection: no later
   * response is framed from its bytes. Explained only when, with each chunked element of such a head
   * renamed to a coding neither parser knows ("unknown", the same length, so every offset stays),
   * the own parser reads the bytes alike and Netty, given them, frames them as the own parser did (or
   * differs only as this class explains). Empty list elements are ignored (RFC 9110 §5.6.1), so
   * "chunked," keeps chunked final and is not explained here.
   */
  private static boolean chunkedNotFinalInResponse(byte[] data, Outcome own, Outcome netty) {
    if (netty.end() != End.FAILED) {
      return false;
    }
    byte[] renamed = data.clone();
    boolean changed = false;
    // A head, as far as the bytes tell without a parser: a run of non-empty lines.
    java.util.List<int[]> chunkedElements = new java.util.ArrayList<>(); // [from, to) of each "chunked" in the run
    boolean lastIsChunked = false;
    int lineFrom = 0;
    while (lineFrom <= data.length) {
      int lineTo = lineFrom;
      while (lineTo < data.length && data[lineTo] != '\n') {
        lineTo++;
      }
      int contentTo = lineTo > lineFrom && lineTo < data.length && data[lineTo - 1] == '\r' ? lineTo - 1 : lineTo;
      boolean empty = contentTo == lineFrom;
      if (empty || lineTo == data.length) {
        if (!empty) {
          lastIsChunked = transferCodingElements(data, lineFrom, contentTo, chunkedElements, lastIsChunked);
        }
        if (!chunkedElements.isEmpty() && !lastIsChunked) {
          for (int[] element : chunkedElements) {
            System.arraycopy("unknown".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), 0, renamed, element[0], 7);
          }
          changed = true;
        }
        chunkedElements.clear();
        lastIsChunked = false;
      } else {
        lastIsChunked = transferCodingElements(data, lineFrom, contentTo, chunkedElements, lastIsChunked);
      }
      lineFrom = lineTo + 1;
    }
    return changed && explainedOnceRewritten(renamed, false, own);
  }

  /**
   * For a {@code Transfer-Encoding} field line in {@code data[from, to)}: adds the offsets of its
   * "chunked" elements (any case, OWS trimmed) to {@code chunked} and returns whether its last
   * non-empty element is chunked; for any other line (or one with no element), {@code lastIsChunked}.
   */
  private static boolean transferCodingElements(byte[] data, int from, int to, java.util.List<int[]> chunked, boolean lastIsChunked) {
    String line = new String(data, from, to - from, java.nio.charset.StandardCharsets.ISO_8859_1);
    int colon = line.indexOf(':');
    if (colon < 0 || !line.substring(0, colon).equalsIgnoreCase("transfer-encoding")) {
      return lastIsChunked;
    }
    int start = colon + 1;
    while (start <= line.length()) {
      int comma = line.indexOf(',', start);
      int end = comma < 0 ? line.length() : comma;
      int a = start;
      int b = end;
      while (a < b && (line.charAt(a) == ' ' || line.charAt(a) == '\t')) {
        a++;
      }
      while (b > a && (line.charAt(b - 1) == ' ' || line.charAt(b - 1) == '\t')) {
        b--;
      }
      if (b > a) {
        lastIsChunked = line.substring(a, b).equalsIgnoreCase("chunked");
        if (lastIsChunked) {
          chunked.add(new int[] {from + a, from + b});
        }
      }
      start = end + 1;
    }
    return lastIsChunked;
  }

  /** A Content-Length field line whose value is zero written with more than one digit ("00"). */
  private static final java.util.regex.Pattern ZEROS_AS_CONTENT_LENGTH =
      java.util.regex.Pattern.compile("(?imd)^(content-length:[ \t]*)00+([ \t]*\r?)$");

  /**
   * A CONNECT request with "Content-Length: 00": RFC 9110 §8.6, Content-Length = 1*DIGIT, so it
   * declares no content, as "0" does. RFC 9110 §9.3.6: a CONNECT has no content; RequestChecks
   * refuses one that declares some, and takes a declared length of zero. On the own path it reads
   * the parsed length (0); its branch for Netty's request, the reference, compares the field's text
   * with "0" and refuses "00". Not a framing difference: both read no body. Explained only when the
   * own parser accepted a CONNECT, and, with each such value written "0", the own parser reads the
   * bytes alike and Netty, given them, frames them as the own parser did (or differs only as this
   * class explains).
   */
  private static boolean connectWithZerosAsContentLength(byte[] data, Outcome own, Outcome netty) {
    if (netty.end() != End.FAILED || own.messages().stream().noneMatch(m -> m.start().startsWith("CONNECT "))) {
      return false;
    }
    String text = new String(data, java.nio.charset.StandardCharsets.ISO_8859_1);
    String rewritten = ZEROS_AS_CONTENT_LENGTH.matcher(text).replaceAll("$10$2");
    return !rewritten.equals(text)
        && explainedOnceRewritten(rewritten.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), true, own);
  }

  /**
   * The tail of the rules that rewrite the input into what Netty would take: the own parser must read
   * {@code rewritten} exactly as it read the input, and Netty, given it, frame it the same, or differ
   * only as this class explains.
   */
  private static boolean explainedOnceRewritten(byte[] rewritten, boolean requests, Outcome own) {
    Outcome ownRewritten = HeadDifferential.gatehouse(rewritten, requests); // its offsets are the rewritten bytes'
    if (!ownRewritten.withoutReason().equals(own.withoutReason())) {
      return false;
    }
    Outcome nettyRewritten = HeadDifferential.netty(rewritten, requests);
    return nettyRewritten.withoutReason().equals(own.withoutReason())
        || explained(rewritten, requests, ownRewritten, nettyRewritten);
  }

  /**
   * A chunk-size line with extensions: hex digits, BWS, then ';' (group 1), and the rest of the line
   * (group 2). (A field name has no ';'.)
   */
  private static final java.util.regex.Pattern CHUNK_LINE_WITH_EXTENSIONS =
      java.util.regex.Pattern.compile("(?m)^([0-9A-Fa-f]+[ \t]*;)([^\\n]*)$");

  /**
   * RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ):
   * whitespace may come before each ';', after a value too ("5;a=b ;c"). Netty's validator refuses
   * it after a value (it takes it after a name); the own framer follows the grammar, so it frames
   * such a body where Netty refuses it: the second exception the RFC decides. The line may have BWS
   * before its first ';' too ("0\t;a=b ;c"): Netty takes that, and it stays. Explained only when the
   * own parser's outcome stays the same with that whitespace removed from every chunk line, and
   * Netty, given those bytes, frames them as the own parser did (or differs only as this class explains).
   */
  private static boolean whitespaceBeforeSemicolonNettyRefuses(byte[] data, boolean requests, Outcome own, Outcome netty) {
    if (netty.end() != End.FAILED) {
      return false;
    }
    String text = new String(data, java.nio.charset.StandardCharsets.ISO_8859_1);
    java.util.regex.Matcher lines = CHUNK_LINE_WITH_EXTENSIONS.matcher(text);
    StringBuilder out = new StringBuilder();
    while (lines.find()) {
      // Only after the first ';': whitespace between the size and it ("0\t;a=b ;c") Netty takes as it is.
      lines.appendReplacement(out, java.util.regex.Matcher.quoteReplacement(lines.group(1) + lines.group(2).replaceAll("[ \t]+;", ";")));
    }
    lines.appendTail(out);
    byte[] normalized = out.toString().getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    return !java.util.Arrays.equals(normalized, data) && explainedOnceRewritten(normalized, requests, own);
  }

  /**
   * RFC 9112 §7.1.1: chunk-ext-val = token / quoted-string; RFC 9110 §5.6.4: a quoted-string's qdtext,
   * and the byte of a quoted-pair, may be obs-text (%x80-FF). Netty's chunk line validator refuses
   * those bytes (0;a="<%xB6>"); the own framer follows the grammar and reads the line: a case the RFC
   * decides, like {@link #whitespaceBeforeSemicolonNettyRefuses}. Explained only when, with each byte
   * %x80-FF inside a quoted string of a chunk line's extensions (after hex digits, BWS and ';') made
   * 'x' (the same length, a qdtext byte), the own parser reads the bytes alike and Netty, given them,
   * frames them as the own parser did (or differs only as this class explains). Outside a quoted
   * string such a byte is no part of the grammar; it is left as it is.
   */
  private static boolean obsTextInQuotedExtensionNettyRefuses(byte[] data, boolean requests, Outcome own, Outcome netty) {
    if (netty.end() != End.FAILED) {
      return false;
    }
    byte[] rewritten = data.clone();
    boolean changed = false;
    int lineFrom = 0;
    while (lineFrom < data.length) {
      int lineTo = lineFrom;
      while (lineTo < data.length && data[lineTo] != '\n') {
        lineTo++;
      }
      int i = lineFrom;
      while (i < lineTo && Character.digit(data[i] & 0xff, 16) >= 0) {
        i++;
      }
      int semicolon = i;
      while (semicolon < lineTo && (data[semicolon] == ' ' || data[semicolon] == '\t')) {
        semicolon++;
      }
      if (i > lineFrom && semicolon < lineTo && data[semicolon] == ';') {
        boolean quoted = false;
        for (int k = semicolon + 1; k < lineTo; k++) {
          int b = data[k] & 0xff;
          if (!quoted) {
            quoted = b == '"';
          } else if (b == '"') {
            quoted = false;
          } else {
            if (b == '\\' && k + 1 < lineTo) {
              b = data[++k] & 0xff; // quoted-pair
            }
            if (b >= 0x80) {
              rewritten[k] = 'x';
              changed = true;
            }
          }
        }
      }
      lineFrom = lineTo + 1;
    }
    return changed && explainedOnceRewritten(rewritten, requests, own);
  }

  private static boolean requestStricter(String reason, byte[] data, int refusedAt) {
    // RFC 9112 §3: request-line = method SP request-target SP HTTP-version, one SP each. A recipient
    // MAY split on whitespace runs instead; Netty does, the own parser does not take that MAY (where
    // the target ends is then a guess that two parsers in a chain can make differently).
    return trailerStricter(reason) || reason.equals("invalid request line") && startLineHasWhitespaceRun(data, refusedAt);
  }

  /** RFC 9112 §7.1 chunk-size [ chunk-ext ], by the RFC's ABNF (RFC 9110 §5.6.2 token, §5.6.4 quoted-string). */
  private static final java.util.regex.Pattern CHUNK_LINE;

  static {
    String token = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
    String quoted = "\"(?:[\t !\\x23-\\x5B\\x5D-\\x7E\\x80-\\xFF]|\\\\[\t \\x21-\\x7E\\x80-\\xFF])*\"";
    String bws = "[ \t]*";
    CHUNK_LINE = java.util.regex.Pattern.compile("[0-9A-Fa-f]+(?:" + bws + ";" + bws + token + "(?:" + bws + "=" + bws
        + "(?:" + token + "|" + quoted + "))?)*");
  }

  /**
   * RFC 9112 §7.1.1: chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ).
   * Netty's decoder (HttpChunkLineValidatingByteProcessor) is looser than that grammar: a name is any
   * run of token bytes, '"', ';' and whitespace, empty included ("5;", "5;a b", "5;a H=1", "5;e\"x");
   * where a value starts, ';' counts as a token byte ("5;a=;"). The own framer follows the grammar.
   * Explained only where the grammar itself (a regular expression of the ABNF, independent of both
   * parsers) says no chunk line can start with the bytes up to the refused one.
   */
  private static boolean extensionNettySkips(byte[] data, int refusedAt) {
    if (refusedAt < 0 || refusedAt >= data.length) {
      return false;
    }
    int from = refusedAt;
    while (from > 0 && data[from - 1] != '\n') {
      from--;
    }
    boolean lineEnded = data[refusedAt] == '\r' || data[refusedAt] == '\n';
    String line = new String(data, from, refusedAt - from + (lineEnded ? 0 : 1), java.nio.charset.StandardCharsets.ISO_8859_1);
    java.util.regex.Matcher matcher = CHUNK_LINE.matcher(line);
    return !matcher.matches() && (lineEnded || !matcher.hitEnd());
  }

  /**
   * RFC 9112 §2.2: a bare CR is invalid, in a trailer field too. Netty's decoder drops the trailer
   * fields it does not allow there (Content-Length, Transfer-Encoding, Trailer) without validating
   * their values, so a bare CR in one passes (for any other name it refuses too). Explained only for
   * those names: the refused CR's line is one of them.
   */
  private static boolean trailerFieldNettyDrops(byte[] data, int refusedAt) {
    if (refusedAt < 0 || refusedAt >= data.length) {
      return false;
    }
    int from = refusedAt;
    while (from > 0 && data[from - 1] != '\n') {
      from--;
    }
    int colon = from;
    while (colon < refusedAt && data[colon] != ':') {
      colon++;
    }
    String name = new String(data, from, colon - from, java.nio.charset.StandardCharsets.ISO_8859_1);
    return colon < refusedAt && java.util.Set.of("content-length", "transfer-encoding", "trailer")
        .contains(name.toLowerCase(java.util.Locale.ROOT));
  }

  /** The refused head's request line, from {@code refusedAt} (after empty lines) to its LF or the input's end. */
  private static byte[] requestLine(byte[] data, int refusedAt) {
    int from = Math.max(refusedAt, 0);
    while (from < data.length && (data[from] == '\r' || data[from] == '\n')) {
      from++;
    }
    int to = from;
    while (to < data.length && data[to] != '\n') {
      to++;
    }
    if (to > from && data[to - 1] == '\r' && to < data.length) {
      to--;
    }
    return java.util.Arrays.copyOfRange(data, from, to);
  }

  /** Whether the refused head's request line has a run of SP/HTAB, or an HTAB. */
  private static boolean startLineHasWhitespaceRun(byte[] data, int refusedAt) {
    byte[] line = requestLine(data, refusedAt);
    for (int i = 0; i < line.length; i++) {
      if (line[i] == '\t' || line[i] == ' ' && i + 1 < line.length && (line[i + 1] == ' ' || line[i + 1] == '\t')) {
        return true;
      }
    }
    return false;
  }

  /**
   * RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ], one SP each; a
   * recipient MAY split on runs of whitespace (SP, HTAB, VT, FF, bare CR) instead. Netty's response
   * decoder does ("HTTP/1.1\t 204"); the own parser does not take that MAY, as for request lines
   * ({@link #requestStricter}): such a response is refused, 502; so is whitespace before the line,
   * which Netty skips. Explained only when the own parser, given the same bytes without that
   * whitespace and with each separator run of the refused status line as one SP, frames them as
   * Netty did, or differs from it only as this class explains.
   */
  private static boolean statusLineWhitespaceNettySplits(byte[] data, int refusedAt, Outcome netty) {
    if (refusedAt < 0 || refusedAt + 8 >= data.length) {
      return false;
    }
    // Netty also skips whitespace before the status line (" HTTP/1.1 200"): none is allowed there.
    byte[] normalized = data;
    if (isWhitespace(data, refusedAt)) {
      normalized = withoutByte(oneSpaceAt(data, refusedAt), refusedAt);
    }
    normalized = oneSpaceAt(normalized, refusedAt + 8); // after "HTTP/x.y"
    if (refusedAt + 12 < normalized.length) {
      normalized = oneSpaceAt(normalized, refusedAt + 12); // after the three-digit code, when one follows
    }
    if (java.util.Arrays.equals(normalized, data)) {
      return false; // no separator run: something else is wrong with the line
    }
    Outcome ownNormalized = HeadDifferential.gatehouse(normalized, false);
    return ownNormalized.withoutReason().equals(netty.withoutReason())
        || explained(normalized, false, ownNormalized, netty);
  }

  /** SP, HTAB, VT, FF or a bare CR at {@code at}: what Netty's decoder takes as a separator. */
  private static boolean isWhitespace(byte[] data, int at) {
    if (at >= data.length) {
      return false;
    }
    byte b = data[at];
    return b == ' ' || b == '\t' || b == 0x0b || b == 0x0c || b == '\r' && at + 1 < data.length && data[at + 1] != '\n';
  }

  private static byte[] withoutByte(byte[] data, int at) {
    byte[] out = new byte[data.length - 1];
    System.arraycopy(data, 0, out, 0, at);
    System.arraycopy(data, at + 1, out, at, data.length - at - 1);
    return out;
  }

  /** {@code data} with the run of whitespace starting at {@code at} made one SP; unchanged without a run there. */
  private static byte[] oneSpaceAt(byte[] data, int at) {
    int end = at;
    while (isWhitespace(data, end)) {
      end++;
    }
    if (end == at || end == at + 1 && data[at] == ' ') {
      return data;
    }
    byte[] out = new byte[data.length - (end - at) + 1];
    System.arraycopy(data, 0, out, 0, at);
    out[at] = ' ';
    System.arraycopy(data, end, out, at + 1, data.length - end);
    return out;
  }

  private static boolean statusVersionInOtherCase(byte[] data, int refusedAt) {
    if (refusedAt < 0 || refusedAt + 5 > data.length) {
      return false;
    }
    String name = new String(data, refusedAt, 5, java.nio.charset.StandardCharsets.ISO_8859_1);
    return name.equalsIgnoreCase("HTTP/") && !name.equals("HTTP/");
  }

  /**
   * RFC 9112 §7.1.2, RFC 9110 §5.1: a trailer field is a field line like a header's (token name,
   * no control bytes in the value). Netty reads trailer lines leniently; the own framer refuses a
   * malformed one at once (400 for a request; a response's head is out by then, so the upstream
   * connection closes and the client sees a cut response, never a complete one).
   */
  private static boolean trailerStricter(String reason) {
    return reason.equals("body: invalid trailer field name") || reason.equals("body: control character in trailer field")
        || reason.equals("body: obsolete line folding in trailer field");
  }

  private static boolean responseStricter(String reason) {
    if (trailerStricter(reason)) {
      return true;
    }
    // RFC 9112 §5.2: a proxy that receives obs-fold in a response either replaces each fold with
    // SP or answers 502; Netty unfolds, Gatehouse refuses (as it does for requests).
    if (reason.startsWith("obsolete line folding")) {
      return true;
    }
    // RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ). Netty keeps control bytes
    // (NUL, ESC, ...) in the reason and Gatehouse used to copy them to the client; refused: 502.
    // RFC 9112 §5: field-line = field-name ":" OWS field-value OWS. Netty's response decoder takes
    // a line without a colon ("Content-Length3 2") as a field split at the first space.
    if (reason.equals("invalid header field name")) {
      return true;
    }
    // RFC 9112 §2.2: only a server ignores empty lines before the start line; before a status line
    // they are bytes the previous response's framing did not account for. Netty skips them.
    if (reason.equals("empty line before the status line")) {
      return true;
    }
    if (reason.equals("control character in status line")) {
      return true;
    }
    // RFC 9112 §2.3: the major version says the syntax; "HTTP/2.1 200" on an HTTP/1.1 connection is
    // not an HTTP/1.x response. Netty takes any "HTTP/d.d"; UpstreamCodec answers 502.
    if (reason.equals("unsupported HTTP version")) {
      return true;
    }
    // RFC 9112 §6.3 item 3: Content-Length with Transfer-Encoding "ought to be handled as an error";
    // Netty reads by Content-Length when the coding is not chunked, Gatehouse answers 502.
    if (reason.equals("both Content-Length and Transfer-Encoding")) {
      return true;
    }
    // RFC 9112 §2.2: a bare CR makes the element invalid (or is replaced by SP). Netty keeps it in the
    // reason phrase ("200 OK\r\bX"), which Gatehouse would copy to the client; refused: 502.
    if (reason.equals("bare CR in head")) {
      return true;
    }
    // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing (an HTTP/1.0 hop
    // may have passed on a coding it does not know); Gatehouse relays none (502), whatever its status.
    // Netty reads one (a 1xx, for one, has no body whatever its fields say).
    if (reason.equals("Transfer-Encoding in an HTTP/1.0 message")) {
      return true;
    }
    // RFC 9110 §10.1.4: a Transfer-Encoding element that is no transfer-coding ("chunked/1.1") is
    // malformed: 502. Netty refuses most, but reads a 1xx (no body) whatever its codings say.
    if (reason.equals("invalid Transfer-Encoding")) {
      return true;
    }
    // RFC 9110 §15: a status code is three digits from 100 to 599 (a client treats unknown codes
    // of a known class as x00). Netty takes "050" as status 50, which Gatehouse would pass on.
    return reason.equals("invalid status code");
  }
}
