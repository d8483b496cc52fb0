package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;

/**
 * What both legs' HTTP/1 decoders share: a head, then its body as the relay handles it (retained
 * slices of the received buffer, a last part), read by the framing the head decided. A subclass reads
 * heads ({@link #head}) and picks the body with {@link #fixedBody}, {@link #chunkedBody},
 * {@link #bodyUntilClose}, {@link #lastPart} (no body) or {@link #hold}; this class reads the body. Event-loop
 * confined: plain fields.
 */
abstract class MessageDecoder extends ByteToMessageDecoder {
  /** One per connection; a constant: Netty asks at every add (otherwise a per-thread map look-up). */
  @Override
  public boolean isSharable() {
    return false;
  }

  static final int HEAD = 0;
  static final int FIXED = 1;
  static final int CHUNKED = 2;
  static final int UNTIL_CLOSE = 3;
  /** Nothing more is HTTP (after a CONNECT, a 101): the bytes wait in the buffer for a tunnel. */
  static final int HOLD = 4;
  /** Refused: nothing after it is read. */
  static final int FAILED = 5;

  private static final HttpHeadersFactory TRAILERS = DefaultHttpHeadersFactory.trailersFactory().withValidation(false);

  private final HeadParser parser;
  private final int maxTrailerBytes;
  private int state = HEAD;
  private long remaining;
  private ChunkedBody body;

  MessageDecoder(HeadParser parser, int maxTrailerBytes) {
    this.parser = parser;
    this.maxTrailerBytes = maxTrailerBytes;
  }

  /**
   * The head at {@code in}'s reader index, its bytes at {@link #headBytes}; null while it is
   * incomplete, or when the parser refused it ({@link #refused} was told).
   */
  final HttpHead parseHead(ByteBuf in, List<Object> out) {
    try {
      return parser.parse(in);
    } catch (HeadParseException e) {
      refused(in, out, e);
      return null;
    }
  }

  /** The bytes of the head {@link #parseHead} just returned: exactly its length, the caller's to keep. */
  final byte[] headBytes() {
    return parser.headBytes();
  }

  /** The head was turned into a message: its bytes leave the buffer. */
  final void headRead(ByteBuf in, HttpHead head) {
    in.skipBytes(head.length());
    parser.reset();
  }

  /** The parser refused a head: say so in {@code out} and stop ({@link #failed}). */
  abstract void refused(ByteBuf in, List<Object> out, HeadParseException cause);

  final int state() {
    return state;
  }

  /**
   * Reads a head at {@code in}'s reader index, adds it to {@code out} and picks its body; or refuses
   * it ({@link #failed}).
   *
   * @return whether a head was read (more may follow in the same buffer)
   */
  abstract boolean head(ChannelHandlerContext ctx, ByteBuf in, List<Object> out);

  /** The chunk framing of the body under way is malformed ({@link #failed} was called): say so. */
  abstract void chunkFramingFailed(ChannelHandlerContext ctx, List<Object> out, HeadParseException cause);

  final void fixedBody(long length) {
    remaining = length;
    state = FIXED;
  }

  final void chunkedBody() {
    body = new ChunkedBody(maxTrailerBytes);
    state = CHUNKED;
  }

  final void bodyUntilClose() {
    state = UNTIL_CLOSE;
  }

  /** The message ends here: no body, or the end of one read until the close. */
  final void lastPart(List<Object> out) {
    out.add(LastHttpContent.EMPTY_LAST_CONTENT);
  }

  final void hold() {
    state = HOLD;
  }

  /**
   * Where the body under way stands, if nothing of it waits in this decoder's buffer and it is
   * between two framing elements (so another process can read on from the socket); else null.
   */
  final BodyPosition bodyPosition() {
    if (actualReadableBytes() != 0) {
      return null;
    }
    return switch (state) {
      case FIXED -> new BodyPosition(BodyPosition.FIXED, remaining);
      case UNTIL_CLOSE -> new BodyPosition(BodyPosition.UNTIL_CLOSE, 0);
      case CHUNKED -> body.position();
      default -> null;
    };
  }

  /** Reads a body from {@code at} on, where another process stopped reading it (no head first). */
  final void resumeBody(BodyPosition at) {
    if (at.chunked()) {
      chunkedBody();
      body.resumeAt(at);
    } else if (BodyPosition.FIXED.equals(at.framing())) {
      fixedBody(at.remaining());
    } else {
      bodyUntilClose();
    }
  }

  /** Nothing more is read: what {@code in} holds is dropped. */
  final void failed(ByteBuf in) {
    state = FAILED;
    in.skipBytes(in.readableBytes());
  }

  /** A body read until the close ended with it: a next head could follow no more, but the state is clean. */
  final void endOfBody() {
    state = HEAD;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    while (in.isReadable()) {
      switch (state) {
        case HEAD:
          if (!head(ctx, in, out)) {
            return;
          }
          break;
        case FIXED:
          int n = (int) Math.min(remaining, in.readableBytes());
          remaining -= n;
          if (remaining == 0) {
            out.add(new DefaultLastHttpContent(in.readRetainedSlice(n), TRAILERS));
            state = HEAD;
          } else {
            out.add(new DefaultHttpContent(in.readRetainedSlice(n)));
          }
          break;
        case CHUNKED:
          if (!chunked(ctx, in, out)) {
            return;
          }
          break;
        case UNTIL_CLOSE:
          out.add(new DefaultHttpContent(in.readRetainedSlice(in.readableBytes())));
          break;
        case FAILED:
          in.skipBytes(in.readableBytes());
          return;
        default:
          return; // HOLD: the bytes wait in the buffer for the tunnel
      }
    }
  }

  /** @return whether to go on in the same buffer */
  private boolean chunked(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    try {
      int result = body.read(in, out);
      if (result == ChunkedBody.DONE) {
        body = null;
        state = HEAD;
      }
      return result != ChunkedBody.NEED_BYTES;
    } catch (HeadParseException e) {
      failed(in);
      chunkFramingFailed(ctx, out, e);
      return false;
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    if (state == HOLD) {
      ctx.fireChannelReadComplete(); // not asking for more: the bytes wait in the socket for the tunnel
      return;
    }
    super.channelReadComplete(ctx);
  }
}
