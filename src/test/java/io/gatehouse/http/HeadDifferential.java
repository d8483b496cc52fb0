package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads one byte stream as a sequence of HTTP/1 messages twice: with Gatehouse's own parser
 * ({@link HeadParser}, {@link ChunkedFramer}, plus the request policy {@link RequestChecks} applies)
 * and with Netty's decoder configured as Gatehouse used it before its own parser took over
 * ({@link NettyRequestOracle} and {@link RequestChecks} for requests; {@code HttpClientCodec} as
 * {@code relay.UpstreamPipeline} built it for responses). The reference is never a Gatehouse codec:
 * those are the own parser now, and a parser compared with itself proves nothing. The two
 * {@link Outcome}s must be equal: same messages accepted, each with the same start line and body
 * length, and the stream ending the same way; {@link KnownDifferences} lists where the own parser is
 * stricter on purpose.
 */
final class HeadDifferential {
  /** Large enough that the size limits (tested by examples) never decide a fuzzed input. */
  static final int MAX_LINE = 16 * 1024;
  static final int MAX_HEAD = 32 * 1024;

  /** How the stream ended after the accepted messages. */
  enum End {
    /** Between messages, or inside a head that is not complete yet. */
    WAITING_HEAD,
    /** Inside a body that is not complete yet. */
    IN_BODY,
    /** A message was refused; nothing after it is read. */
    FAILED,
  }

  /** One accepted message: request line or status, body bytes, and whether the message completed. */
  record Message(String start, long body) {}

  /**
   * @param reason why the own parser refused (null otherwise, and always null for Netty): not part
   *     of what must agree, but what {@link KnownDifferences} reads
   * @param refusedAt where the refused head starts in the input (-1 unless the own parser refused a head)
   */
  record Outcome(List<Message> messages, End end, String reason, int refusedAt) {
    Outcome(List<Message> messages, End end) {
      this(messages, end, null, -1);
    }

    Outcome(List<Message> messages, End end, String reason) {
      this(messages, end, reason, -1);
    }

    Outcome withoutReason() {
      return new Outcome(messages, end, null, -1);
    }
  }

  private HeadDifferential() {}

  // ---- Gatehouse

  static Outcome gatehouse(byte[] data, boolean requests) {
    ByteBuf buf = Unpooled.wrappedBuffer(data);
    List<Message> messages = new ArrayList<>();
    HeadParser parser = new HeadParser(requests, MAX_LINE, MAX_HEAD);
    try {
      while (true) {
        HttpHead head;
        try {
          head = parser.parse(buf);
        } catch (HeadParseException e) {
          return new Outcome(messages, End.FAILED, e.getMessage(), buf.readerIndex());
        }
        if (head == null) {
          // An upstream that closes inside a head sent a bad response; a client may send more.
          return new Outcome(messages, requests || !buf.isReadable() ? End.WAITING_HEAD : End.FAILED);
        }
        String start;
        long body;
        boolean chunked = false;
        if (requests) {
          if (refused(head, buf)) {
            return new Outcome(messages, End.FAILED, "refused by request checks", buf.readerIndex());
          }
          start = head.method(buf) + " " + head.target(buf);
          chunked = head.chunked();
          body = chunked ? 0 : Math.max(0, head.contentLength());
        } else {
          String refused = UpstreamCodec.refusal(head);
          if (refused != null) {
            return new Outcome(messages, End.FAILED, refused);
          }
          start = Integer.toString(head.status());
          int status = head.status();
          if (status < 200 || status == 204 || status == 304) {
            body = 0; // RFC 9112 §6.3 item 1
          } else if (head.chunked()) {
            chunked = true;
            body = 0;
          } else if (head.hasTransferEncoding()) {
            body = -1; // §6.3 item 4: a response whose final coding is not chunked is read until close
          } else {
            body = head.contentLength() == HttpHead.NO_LENGTH ? -1 : head.contentLength();
          }
        }
        buf.skipBytes(head.length());
        if (requests && start.startsWith("CONNECT ")) {
          // RFC 9110 §9.3.6: a CONNECT has no content, and what follows its head is not HTTP: the
          // client leg holds those bytes for the tunnel whatever the head's framing fields say.
          messages.add(new Message(start, 0));
          return new Outcome(messages, End.WAITING_HEAD);
        }
        if (chunked) {
          ChunkedFramer framer = new ChunkedFramer(MAX_HEAD);
          try {
            // A refusal is located again byte by byte (which must refuse too): KnownDifferences reads
            // the refused chunk line.
            int used = framer.consume(buf, buf.readerIndex(), buf.writerIndex());
            buf.skipBytes(used);
          } catch (HeadParseException e) {
            return new Outcome(messages, End.FAILED, "body: " + e.getMessage(), refusedByte(buf, e));
          }
          if (!framer.done()) {
            return new Outcome(messages, End.IN_BODY);
          }
          body = framer.dataBytes();
        } else if (body == -1) {
          body = buf.readableBytes(); // until close: the stream's end is the body's end
          buf.skipBytes(buf.readableBytes());
        } else if (buf.readableBytes() < body) {
          return new Outcome(messages, End.IN_BODY);
        } else {
          buf.skipBytes((int) body);
        }
        messages.add(new Message(start, body));
        if (!requests && head.status() == 101) {
          return new Outcome(messages, End.WAITING_HEAD); // nor what follows a 101
        }
      }
    } finally {
      buf.release();
    }
  }

  /** Where a fresh framer refuses the body at {@code buf}'s reader index: the refused byte's offset. */
  private static int refusedByte(ByteBuf buf, HeadParseException refusal) {
    ChunkedFramer framer = new ChunkedFramer(MAX_HEAD);
    int i = buf.readerIndex();
    try {
      while (i < buf.writerIndex()) {
        i += framer.consume(buf, i, i + 1);
      }
    } catch (HeadParseException e) {
      return i;
    }
    throw new AssertionError("refused in one read, not byte by byte: " + refusal.getMessage());
  }

  /** What {@link RequestChecks#check} refuses, from the parser's facts alone. */
  private static boolean refused(HttpHead head, ByteBuf buf) {
    if (head.majorVersion() != 1 || head.minorVersion() > 1) {
      return true;
    }
    if (head.method(buf).equals("CONNECT") && (head.hasTransferEncoding() || head.contentLength() > 0)) {
      return true;
    }
    if (head.minorVersion() == 0 && head.hasTransferEncoding()) {
      return true; // RFC 9112 §6.1, refused by RequestDecoder (and by Netty's decoder)
    }
    if (head.hostCount() > 1 || (head.hostCount() == 0 && head.minorVersion() == 1)) {
      return true;
    }
    for (int i = 0; i < head.fieldCount(); i++) {
      if (head.nameIs(buf, i, "host") && !HostSyntax.valid(head.value(buf, i))) {
        return true;
      }
    }
    return head.hasTransferEncoding() && !head.onlyChunked();
  }

  // ---- Netty

  static Outcome netty(byte[] data, boolean requests) {
    EmbeddedChannel channel = requests
        ? new EmbeddedChannel(new NettyRequestOracle(MAX_LINE, MAX_HEAD))
        : new EmbeddedChannel(new HttpClientCodec(new HttpDecoderConfig()
            .setMaxInitialLineLength(MAX_LINE).setMaxHeaderSize(MAX_HEAD).setMaxChunkSize(64 * 1024), false, false));
    List<Object> out = new ArrayList<>();
    try {
      channel.writeInbound(Unpooled.wrappedBuffer(data));
      drain(channel, out);
      if (!requests) {
        channel.finish(); // the upstream closed: a body read until close ends here
        drain(channel, out);
      }
      return read(out, requests);
    } finally {
      out.forEach(ReferenceCountUtil::release);
      channel.finishAndReleaseAll();
    }
  }

  /**
   * The response stream through {@link UpstreamCodec}, the decoder the relay uses: it must read
   * what the parser reads. A framing error inside a chunked body closes the connection instead of
   * producing a message, which reads here as a body that never ended.
   */
  static Outcome upstreamCodec(byte[] data) {
    EmbeddedChannel channel = new EmbeddedChannel(new UpstreamCodec(MAX_LINE, MAX_HEAD));
    List<Object> out = new ArrayList<>();
    try {
      channel.writeInbound(Unpooled.wrappedBuffer(data));
      drain(channel, out);
      if (channel.isOpen()) {
        channel.finish();
        drain(channel, out);
      }
      return read(out, false);
    } finally {
      out.forEach(ReferenceCountUtil::release);
      channel.finishAndReleaseAll();
    }
  }

  /**
   * The request stream through {@link ServerCodec}, the decoder the client leg uses: it must read
   * what the parser reads (a body whose framing fails is a failed message, as the parser's).
   */
  static Outcome serverCodec(byte[] data) {
    EmbeddedChannel channel = new EmbeddedChannel(new ServerCodec(MAX_LINE, MAX_HEAD));
    List<Object> out = new ArrayList<>();
    try {
      channel.writeInbound(Unpooled.wrappedBuffer(data));
      drain(channel, out);
      return read(out, true);
    } finally {
      out.forEach(ReferenceCountUtil::release);
      channel.finishAndReleaseAll();
    }
  }

  private static void drain(EmbeddedChannel channel, List<Object> out) {
    Object msg;
    while ((msg = channel.readInbound()) != null) {
      out.add(msg);
    }
  }

  private static Outcome read(List<Object> out, boolean requests) {
    List<Message> messages = new ArrayList<>();
    String start = null;
    long body = 0;
    for (Object msg : out) {
      if (msg instanceof HttpMessage message) {
        if (message.decoderResult().isFailure()) {
          return new Outcome(messages, End.FAILED);
        }
        if (message instanceof HttpRequest request) {
          if (RequestChecks.check(request, Long.MAX_VALUE, Integer.MAX_VALUE) != null) {
            return new Outcome(messages, End.FAILED);
          }
          start = request.method().name() + " " + request.uri();
          if (request.method().equals(HttpMethod.CONNECT)) {
            messages.add(new Message(start, 0)); // as above: no content, what follows is not HTTP
            return new Outcome(messages, End.WAITING_HEAD);
          }
        } else {
          start = Integer.toString(((HttpResponse) message).status().code());
          if (start.equals("101")) {
            messages.add(new Message(start, 0)); // what follows is not HTTP: Netty passes it as content
            return new Outcome(messages, End.WAITING_HEAD);
          }
        }
        body = 0;
      }
      if (msg instanceof HttpContent content) {
        if (content.decoderResult().isFailure()) {
          return new Outcome(messages, End.FAILED);
        }
        body += content.content().readableBytes();
        if (content instanceof LastHttpContent) {
          messages.add(new Message(start, body));
          start = null;
        }
      }
    }
    return new Outcome(messages, start == null ? End.WAITING_HEAD : End.IN_BODY);
  }

  /** The input with bytes outside printable ASCII escaped, for a failure message. */
  static String printable(byte[] data) {
    StringBuilder sb = new StringBuilder();
    for (byte b : data) {
      int c = b & 0xff;
      if (c == '\r') {
        sb.append("\\r");
      } else if (c == '\n') {
        sb.append("\\n");
      } else if (c >= 0x20 && c < 0x7f && c != '\\') {
        sb.append((char) c);
      } else {
        sb.append(String.format("\\x%02x", c));
      }
    }
    return sb.toString();
  }
}
