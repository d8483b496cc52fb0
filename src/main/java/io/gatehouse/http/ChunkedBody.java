package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.LastHttpContent;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Reads one chunked body (RFC 9112 §7.1) with a {@link ChunkedFramer} into the body parts the relay
 * handles: chunk data as retained slices of the received buffer, then a last part carrying the
 * trailer fields. Shared by both legs' decoders. One per message; event-loop confined.
 */
final class ChunkedBody {
  /** Call again with the same buffer: more may be read from it. */
  static final int MORE = 0;
  /** Nothing more can be read until more bytes arrive. */
  static final int NEED_BYTES = 1;
  /** The last part was added: the message ends here. */
  static final int DONE = 2;

  private static final HttpHeadersFactory TRAILERS = DefaultHttpHeadersFactory.trailersFactory().withValidation(false);

  private final ChunkedFramer framer;
  /** Bytes of the trailer section read so far and kept in the buffer until it ends. */
  private int trailerBytes;

  ChunkedBody(int maxTrailerBytes) {
    this.framer = new ChunkedFramer(maxTrailerBytes);
  }

  /** Where the body stands, between two framing elements; else null. */
  BodyPosition position() {
    return trailerBytes == 0 ? framer.position() : null;
  }

  /** This (new) body goes on from where another read of it stopped. */
  void resumeAt(BodyPosition at) {
    framer.resumeAt(at);
  }

  /**
   * Reads what {@code in} holds of the body.
   *
   * @return {@link #MORE}, {@link #NEED_BYTES} or {@link #DONE}
   * @throws HeadParseException when the chunk framing is malformed: the body cannot be delimited
   */
  int read(ByteBuf in, List<Object> out) throws HeadParseException {
    if (framer.inData()) {
      int n = (int) Math.min(framer.dataRemaining(), in.readableBytes());
      framer.dataTaken(n);
      out.add(new DefaultHttpContent(in.readRetainedSlice(n)));
      return MORE;
    }
    if (framer.inTrailer()) {
      // The trailer section stays in the buffer until it ends, then becomes the last part's
      // trailing fields (RFC 9112 §7.1.2), as Netty's decoder passes them on.
      int start = in.readerIndex() + trailerBytes;
      trailerBytes += framer.consumeFraming(in, start, in.writerIndex());
      if (!framer.done()) {
        return NEED_BYTES;
      }
      LastHttpContent last = LastHttpContent.EMPTY_LAST_CONTENT;
      if (trailerBytes > 2) {
        last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, TRAILERS);
        trailers(in, in.readerIndex(), in.readerIndex() + trailerBytes, last.trailingHeaders());
      }
      in.skipBytes(trailerBytes);
      out.add(last);
      return DONE;
    }
    int read = framer.consumeFraming(in, in.readerIndex(), in.writerIndex());
    in.skipBytes(read);
    return read > 0 || framer.inTrailer() ? MORE : NEED_BYTES;
  }

  /**
   * Adds the trailer fields in {@code buf[from, to)} (already checked by the framer) to {@code trailers},
   * but for those {@link TrailerFields} drops.
   */
  private static void trailers(ByteBuf buf, int from, int to, HttpHeaders trailers) {
    int line = from;
    while (line < to) {
      int cr = buf.indexOf(line, to, (byte) '\r');
      if (cr <= line) {
        return; // the empty line ending the section
      }
      int colon = buf.indexOf(line, cr, (byte) ':');
      String name = buf.toString(line, colon - line, StandardCharsets.ISO_8859_1);
      if (TrailerFields.forwarded(name)) {
        trailers.add(name, buf.toString(colon + 1, cr - colon - 1, StandardCharsets.ISO_8859_1).strip());
      }
      line = cr + 2;
    }
  }
}
