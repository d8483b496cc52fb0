package io.gatehouse.listener;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.gatehouse.listener.H2Connection.Forwarded;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.LoggerFactory;

/**
 * Fuzzes the HTTP/2 server pipeline ({@link ClientPipeline#addHttp2}: the strict frame codec, its
 * frame checks, the multiplexer, the per-stream HTTP/1 adaptation, drain and error handling) with
 * frame sequences built from the fuzzer's bytes ({@link H2Script}), on an embedded channel with a
 * recording handler in the proxy handler's place ({@link H2Connection}). Each input must keep:
 *
 * <ul>
 *   <li>no exception reaches the end of the connection's or a stream's pipeline, and nothing is
 *       logged at WARN or above with a stack trace, or at ERROR at all;
 *   <li>every buffer is released once the connection is closed (paranoid leak detection runs too);
 *   <li>a request handed to the proxy handler (so to an upstream) was well-formed as the client sent
 *       it (RFC 9113 §8.1.1, §8.2, §8.3, §8.5, checked by {@link H2Oracle}, not by Netty), and is
 *       fit for an HTTP/1.1 upstream: no connection-specific fields, no CR/LF/NUL in values, one
 *       host, an origin-form target (or authority-form for CONNECT), a complete body of its
 *       content-length, no pseudo-headers or connection-specific fields in its trailers;
 *   <li>no stream is left unanswered: each request the client ended gets a response, a RST_STREAM,
 *       or the connection ends (GOAWAY and close, or a GOAWAY that excludes the stream).
 * </ul>
 *
 * <p>Under {@code mvn test} the seed corpus
 * ({@code src/test/resources/io/gatehouse/listener/Http2FrameSequenceFuzzTestInputs/}) runs as
 * regression tests; {@code bench/fuzz.sh} fuzzes for a bounded time ({@code JAZZER_FUZZ=1}).
 */
class Http2FrameSequenceFuzzTest {
  private static final Logged LOGGED = Logged.install();

  @FuzzTest(maxDuration = "2m")
  void frame_sequences_keep_the_invariants(byte[] data) {
    if (data.length > 4096 || data.length == 0) {
      return;
    }
    H2Script script = H2Script.read(java.util.Arrays.copyOfRange(data, 1, data.length));
    LOGGED.drain();
    H2Connection connection = new H2Connection();
    // The first byte splits the client's bytes into reads of 1 to 256 bytes: frames across reads.
    connection.receive(script.bytes, (data[0] & 0xff) == 0 ? script.bytes.length : (data[0] & 0xff));
    List<String> findings = new ArrayList<>(connection.findings);
    findings.addAll(checkForwarded(script, connection.forwarded));
    findings.addAll(checkAnswered(script, connection));
    int before = connection.findings.size();
    connection.closeAndCheckBuffers();
    findings.addAll(connection.findings.subList(before, connection.findings.size()));
    findings.addAll(LOGGED.drain());
    assertThat(findings).as("findings for %s", H2Script.printable(script.bytes)).isEmpty();
  }

  private static List<String> checkForwarded(H2Script script, Map<Integer, Forwarded> forwarded) {
    List<String> findings = new ArrayList<>();
    forwarded.forEach((stream, request) -> {
      H2Script.Sent sent = script.streams.get(stream);
      if (script.exact && sent != null && sent.request != null) {
        String why = H2Oracle.malformed(sent.request);
        if (why != null) {
          findings.add("stream " + stream + ": a malformed request reached the proxy handler (" + why + "): "
              + request.head());
        }
      }
      String unfit = H2Oracle.unfit(request.head());
      if (unfit != null) {
        findings.add("stream " + stream + ": request unfit for an upstream (" + unfit + "): " + request.head());
      }
      if (request.complete()) {
        String length = request.head().headers().get(H2Connection.CONTENT_LENGTH);
        if (length != null && !length.equals(Long.toString(request.bodyBytes()))) {
          findings.add("stream " + stream + ": content-length " + length + " but a complete body of "
              + request.bodyBytes() + " bytes (§8.1.1)");
        }
        for (Map.Entry<String, String> trailer : request.trailers()) {
          String name = trailer.getKey().toLowerCase(java.util.Locale.ROOT);
          if (name.startsWith(":") || Set.of("connection", "transfer-encoding", "keep-alive", "upgrade",
              "proxy-connection").contains(name) || trailer.getValue().matches("(?s).*[\r\n\0].*")) {
            findings.add("stream " + stream + ": trailer " + trailer + " forwarded");
          }
        }
      }
    });
    return findings;
  }

  private static List<String> checkAnswered(H2Script script, H2Connection connection) {
    if (!connection.isOpen()) {
      return List.of(); // the connection ended, and every stream with it
    }
    Set<Integer> answered = new java.util.HashSet<>();
    int goAwayLast = Integer.MAX_VALUE;
    for (int[] frame : connection.frames()) {
      if (frame[0] == H2Connection.HEADERS || frame[0] == H2Connection.RST_STREAM) {
        answered.add(frame[2]);
      } else if (frame[0] == H2Connection.GOAWAY) {
        goAwayLast = Math.min(goAwayLast, frame[3] & 0x7fffffff);
      }
    }
    List<String> findings = new ArrayList<>();
    for (int stream : H2Connection.endedByClient(script)) {
      if (!answered.contains(stream) && stream <= goAwayLast) {
        findings.add("stream " + stream + ": the client ended its request; no response, RST_STREAM or GOAWAY");
      }
    }
    return findings;
  }

  /** Log events at WARN or above with a stack trace, and any at ERROR. */
  private static final class Logged extends AppenderBase<ILoggingEvent> {
    private final List<String> events = new ArrayList<>();

    static Logged install() {
      Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
      Logged logged = new Logged();
      logged.setContext(root.getLoggerContext());
      logged.start();
      root.addAppender(logged);
      return logged;
    }

    @Override
    protected synchronized void append(ILoggingEvent event) {
      if (event.getLevel().isGreaterOrEqual(Level.ERROR)
          || (event.getLevel().isGreaterOrEqual(Level.WARN) && event.getThrowableProxy() != null)) {
        events.add(event.getLevel() + " " + event.getLoggerName() + ": " + event.getFormattedMessage()
            + (event.getThrowableProxy() != null ? " " + event.getThrowableProxy().getClassName() + ": "
                + event.getThrowableProxy().getMessage() : ""));
      }
    }

    synchronized List<String> drain() {
      List<String> copy = List.copyOf(events);
      events.clear();
      return copy;
    }
  }
}
