package io.gatehouse.http;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.AsciiString;

/**
 * The fields of a request head, read and edited without caring how the head is held: as Netty
 * header objects, or as the received bytes of a {@link ClientRequest}, whose fields are never
 * turned into objects when only these operations touch them. The request path reads and edits
 * requests through this, so that the common request goes upstream by ranges.
 */
public interface MessageFields {
  /** The first value of field {@code name} (lower case), or null. */
  String get(AsciiString name);

  /** Every value of field {@code name} (lower case), in order; empty when there is none. */
  java.util.List<String> getAll(AsciiString name);

  /** Replaces every field {@code name} (lower case) with one holding {@code value}. */
  void set(AsciiString name, CharSequence value);

  /** Removes every field {@code name} (lower case). */
  void remove(AsciiString name);

  /** The fields of {@code request}, without materializing a {@link ClientRequest}'s header objects. */
  static MessageFields of(HttpRequest request) {
    return request instanceof ClientRequest ? (ClientRequest) request : of(request.headers());
  }

  static MessageFields of(HttpHeaders headers) {
    return new MessageFields() {
      @Override
      public String get(AsciiString name) {
        return headers.get(name);
      }

      @Override
      public java.util.List<String> getAll(AsciiString name) {
        return headers.getAll(name);
      }

      @Override
      public void set(AsciiString name, CharSequence value) {
        headers.set(name, value);
      }

      @Override
      public void remove(AsciiString name) {
        headers.remove(name);
      }
    };
  }
}
