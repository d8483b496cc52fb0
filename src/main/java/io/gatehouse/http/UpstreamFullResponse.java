package io.gatehouse.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

/**
 * An {@link UpstreamResponse} read whole: a length-delimited body that had fully arrived with its
 * head (a small response, as most are). The relay hands it to the client as one message, so the
 * head and its body cross the client's handlers, and an HTTP/2 stream's, once instead of twice. It
 * is still streaming: nothing waits for bytes that have not arrived; a body that has not all come
 * goes in parts after a plain {@link UpstreamResponse}, as before.
 *
 * <p>The body is a retained slice of the received buffer: this message is released like any other
 * part of a body. No trailers (a length-delimited body has none). Event-loop confined.
 */
public final class UpstreamFullResponse extends UpstreamResponse implements FullHttpResponse {
  private final ByteBuf content;

  /** @param content the whole body, exactly Content-Length bytes; this message owns it */
  UpstreamFullResponse(HttpHead head, byte[] bytes, ByteBuf content) {
    super(head, bytes);
    this.content = content;
  }

  @Override
  public ByteBuf content() {
    return content;
  }

  @Override
  public HttpHeaders trailingHeaders() {
    return EmptyHttpHeaders.INSTANCE;
  }

  // Copies are for code that keeps a message beyond the relay's pass, which none does on the data
  // path: they are plain Netty messages with the headers as they are now.

  @Override
  public FullHttpResponse copy() {
    return replace(content.copy());
  }

  @Override
  public FullHttpResponse duplicate() {
    return replace(content.duplicate());
  }

  @Override
  public FullHttpResponse retainedDuplicate() {
    return replace(content.retainedDuplicate());
  }

  @Override
  public FullHttpResponse replace(ByteBuf replacement) {
    FullHttpResponse copy = new DefaultFullHttpResponse(protocolVersion(), status(), replacement,
        headers().copy(), EmptyHttpHeaders.INSTANCE);
    copy.setDecoderResult(decoderResult());
    return copy;
  }

  @Override
  public int refCnt() {
    return content.refCnt();
  }

  @Override
  public FullHttpResponse retain() {
    content.retain();
    return this;
  }

  @Override
  public FullHttpResponse retain(int increment) {
    content.retain(increment);
    return this;
  }

  @Override
  public FullHttpResponse touch() {
    content.touch();
    return this;
  }

  @Override
  public FullHttpResponse touch(Object hint) {
    content.touch(hint);
    return this;
  }

  @Override
  public boolean release() {
    return content.release();
  }

  @Override
  public boolean release(int decrement) {
    return content.release(decrement);
  }

  @Override
  public FullHttpResponse setProtocolVersion(HttpVersion version) {
    super.setProtocolVersion(version);
    return this;
  }

  @Override
  public FullHttpResponse setStatus(HttpResponseStatus status) {
    super.setStatus(status);
    return this;
  }
}
