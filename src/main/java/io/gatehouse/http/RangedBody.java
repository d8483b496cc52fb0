package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.PromiseCombiner;
import java.nio.charset.StandardCharsets;

/**
 * The body of a message whose head was written by ranges (not through Netty's encoder, whose state
 * the head never passed through): its parts go out as they came, with chunk framing when the body is
 * chunked on this hop, or nothing for a bodyless message. Used by both legs' encoders. One per
 * encoder, reused for each message; event-loop confined.
 */
final class RangedBody {
  static final int NONE = 0;
  /** The parts' bytes as they are (a length-delimited or read-until-close body). */
  static final int RAW = 1;
  /** Each part becomes a chunk; the last adds the last chunk and the trailer fields. */
  static final int CHUNKED = 2;
  /** No body whatever the parts hold (a response to HEAD, a 304). */
  static final int EMPTY = 3;
  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[] LAST_CHUNK = {'0', '\r', '\n'};
  /** Shared, never released: a direct buffer, which the socket writes without a copy (as Netty's encoder does). */
  private static final ByteBuf CRLF_BUF =
      Unpooled.unreleasableBuffer(Unpooled.directBuffer(2).writeBytes(CRLF)).asReadOnly();

  private int mode = NONE;

  /** A head was written by ranges: its body parts follow, framed as {@code mode}. */
  void start(int mode) {
    this.mode = mode;
  }

  boolean chunked() {
    return mode == CHUNKED;
  }

  boolean empty() {
    return mode == EMPTY;
  }

  /** Whether a body of a head written by ranges is under way. */
  boolean active() {
    return mode != NONE;
  }

  /** Writes one body part; the last one ends the body. Releases {@code part}. */
  void write(ChannelHandlerContext ctx, HttpContent part, ChannelPromise promise) {
    boolean last = part instanceof LastHttpContent;
    try {
      ByteBuf data = part.content();
      if (mode == EMPTY || (mode == RAW && !data.isReadable())) {
        ctx.write(Unpooled.EMPTY_BUFFER, promise);
      } else if (mode == RAW) {
        ctx.write(data.retain(), promise);
      } else {
        writeChunk(ctx, data, last ? (LastHttpContent) part : null, promise);
      }
    } finally {
      part.release();
      if (last) {
        mode = NONE;
      }
    }
  }

  /** RFC 9112 §7.1: {@code size CRLF data CRLF}; the last part adds {@code 0 CRLF [trailers] CRLF}. */
  private void writeChunk(ChannelHandlerContext ctx, ByteBuf data, LastHttpContent last, ChannelPromise promise) {
    int size = data.readableBytes();
    ByteBuf end = null;
    if (last != null) {
      end = ctx.alloc().buffer(7 + 64 * last.trailingHeaders().size());
      if (size > 0) {
        end.writeBytes(CRLF);
      }
      end.writeBytes(LAST_CHUNK);
      for (java.util.Iterator<java.util.Map.Entry<CharSequence, CharSequence>> it =
          last.trailingHeaders().iteratorCharSequence(); it.hasNext(); ) {
        java.util.Map.Entry<CharSequence, CharSequence> field = it.next();
        end.writeCharSequence(field.getKey(), StandardCharsets.ISO_8859_1);
        end.writeByte(':').writeByte(' ');
        end.writeCharSequence(field.getValue(), StandardCharsets.ISO_8859_1);
        end.writeBytes(CRLF);
      }
      end.writeBytes(CRLF);
    }
    if (size == 0) {
      ctx.write(end != null ? end : Unpooled.EMPTY_BUFFER, promise);
      return;
    }
    ByteBuf sizeLine = ctx.alloc().buffer(10);
    sizeLine.writeCharSequence(Integer.toHexString(size), StandardCharsets.US_ASCII);
    sizeLine.writeBytes(CRLF);
    ByteBuf tail = end != null ? end : CRLF_BUF.duplicate();
    if (promise.isVoid()) {
      ctx.write(sizeLine, promise);
      ctx.write(data.retain(), promise);
      ctx.write(tail, promise);
    } else {
      PromiseCombiner combiner = new PromiseCombiner(ctx.executor());
      combiner.add(ctx.write(sizeLine));
      combiner.add(ctx.write(data.retain()));
      combiner.add(ctx.write(tail));
      combiner.finish(promise);
    }
  }
}
