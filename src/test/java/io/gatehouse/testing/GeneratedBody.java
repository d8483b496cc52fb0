package io.gatehouse.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.stream.ChunkedInput;

/**
 * A body of a given length produced chunk by chunk, never held in memory. Byte {@code i} is
 * {@link #byteAt(long) byteAt(i)} ('a'..'z' repeating), so a reader can verify what it got.
 */
public final class GeneratedBody implements ChunkedInput<ByteBuf> {
    static final int CHUNK_SIZE = 64 * 1024;
    private static final byte[] PATTERN = new byte[CHUNK_SIZE + 26];

    static {
        for (int i = 0; i < PATTERN.length; i++) {
            PATTERN[i] = byteAt(i);
        }
    }

    private final long length;
    private long produced;

    GeneratedBody(long length) {
        if (length < 0) {
            throw new IllegalArgumentException("length: " + length + " (expected: >= 0)");
        }
        this.length = length;
    }

    public static byte byteAt(long offset) {
        return (byte) ('a' + (int) (offset % 26));
    }

    @Override
    public boolean isEndOfInput() {
        return produced >= length;
    }

    @Override
    public void close() {
    }

    @Deprecated
    @Override
    public ByteBuf readChunk(ChannelHandlerContext ctx) {
        return readChunk(ctx.alloc());
    }

    @Override
    public ByteBuf readChunk(ByteBufAllocator allocator) {
        if (isEndOfInput()) {
            return null;
        }
        int n = (int) Math.min(CHUNK_SIZE, length - produced);
        ByteBuf chunk = allocator.buffer(n);
        chunk.writeBytes(PATTERN, (int) (produced % 26), n);
        produced += n;
        return chunk;
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public long progress() {
        return produced;
    }
}
