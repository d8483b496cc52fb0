package io.gatehouse.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http2.DefaultHttp2Connection;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Exception;
import org.junit.jupiter.api.Test;

class Http2StreamHistoryTest {
  private final Http2Connection connection = new DefaultHttp2Connection(true);
  private final Http2StreamHistory history = new Http2StreamHistory();

  Http2StreamHistoryTest() {
    connection.addListener(history);
  }

  @Test
  void remembersOpenedIdentifiersAndTheSkippedOnes() throws Exception {
    open(1, 3, 5, 9, 11);
    assertThat(history.wasOpened(3)).isTrue();
    assertThat(history.wasOpened(7)).isFalse();
    assertThat(history.wasOpened(11)).isTrue();
    assertThat(history.wasOpened(13)).isFalse();
  }

  @Test
  void aClientSkippingIdentifiersCostsBoundedMemory() throws Exception {
    for (int id = 1; id < 4 * 4 * Http2StreamHistory.MAX_RUNS; id += 4) {
      open(id);
    }
    int last = 4 * 4 * Http2StreamHistory.MAX_RUNS - 3;
    assertThat(history.wasOpened(last)).isTrue();
    assertThat(history.wasOpened(last - 2)).isFalse(); // recent gaps stay exact
    assertThat(history.wasOpened(3)).isTrue(); // the oldest gaps merged: closed, not never-opened
  }

  @Test
  void remembersTheLastResets() throws Exception {
    history.rememberReset(7);
    assertThat(history.wasReset(7)).isTrue();
    for (int id = 9; id < 9 + 2 * Http2StreamHistory.RESETS; id += 2) {
      history.rememberReset(id);
    }
    assertThat(history.wasReset(7)).isFalse();
    assertThat(history.wasReset(7 + 2 * Http2StreamHistory.RESETS)).isTrue();
  }

  private void open(int... ids) throws Http2Exception {
    for (int id : ids) {
      connection.remote().createStream(id, false);
    }
  }
}
