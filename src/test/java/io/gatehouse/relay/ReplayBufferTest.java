package io.gatehouse.relay;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.ArrayDeque;
import org.junit.jupiter.api.Test;

class ReplayBufferTest {
  private static HttpContent part(int size) {
    return new DefaultHttpContent(Unpooled.buffer(size).writeZero(size));
  }

  @Test
  void keeps_retained_copies_until_taken() {
    ReplayBuffer buffer = new ReplayBuffer(100);
    HttpContent a = part(40);
    buffer.add(a);
    buffer.add(LastHttpContent.EMPTY_LAST_CONTENT);
    a.release(); // the original goes upstream and is released there
    assertThat(buffer.complete()).isTrue();
    ArrayDeque<HttpContent> taken = buffer.take();
    assertThat(taken).hasSize(2);
    assertThat(taken.peekFirst().content().readableBytes()).isEqualTo(40);
    assertThat(taken.peekFirst().refCnt()).isEqualTo(1);
    taken.forEach(HttpContent::release);
    assertThat(a.refCnt()).isZero();
  }

  @Test
  void past_the_limit_it_lets_go_of_everything() {
    ReplayBuffer buffer = new ReplayBuffer(100);
    HttpContent a = part(60);
    HttpContent b = part(60);
    buffer.add(a);
    buffer.add(b);
    assertThat(buffer.complete()).isFalse();
    assertThat(a.refCnt()).as("the copy of a was released").isEqualTo(1);
    a.release();
    b.release();
    assertThat(buffer.take()).isNull();
    assertThat(buffer.complete()).as("take starts afresh").isTrue();
  }

  @Test
  void release_frees_held_parts() {
    ReplayBuffer buffer = new ReplayBuffer(100);
    HttpContent a = part(10);
    buffer.add(a);
    buffer.release();
    assertThat(a.refCnt()).isEqualTo(1);
    a.release();
  }
}
