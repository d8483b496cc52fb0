package io.gatehouse.http;

/**
 * Where a response body being read from an upstream stands, at a point between two framing
 * elements, so that another process can go on reading it from the socket (a hand-off moves a
 * response in flight): nothing of the body's framing is half-read there. Immutable.
 *
 * @param framing {@link #FIXED} ({@code remaining} bytes of a {@code Content-Length} body left),
 *     {@link #UNTIL_CLOSE} (the body ends with the connection), or, in a chunked body,
 *     {@link #CHUNK_DATA} ({@code remaining} bytes of the current chunk's data left),
 *     {@link #CHUNK_END} (its data read, the CRLF after it next), {@link #CHUNK_END_LF} (the CR of
 *     that CRLF read) or {@link #CHUNK_SIZE} (the next chunk-size line next)
 */
public record BodyPosition(String framing, long remaining) {
  public static final String FIXED = "fixed";
  public static final String UNTIL_CLOSE = "until-close";
  public static final String CHUNK_DATA = "chunk-data";
  public static final String CHUNK_END = "chunk-end";
  public static final String CHUNK_END_LF = "chunk-end-lf";
  public static final String CHUNK_SIZE = "chunk-size";

  /** Whether the body is chunked (its place is the chunk framer's). */
  public boolean chunked() {
    return framing.startsWith("chunk-");
  }

  /** Checks a position read from elsewhere (a hand-off's description). */
  public static BodyPosition checked(String framing, long remaining) {
    boolean counted = FIXED.equals(framing) || CHUNK_DATA.equals(framing);
    boolean known = counted || UNTIL_CLOSE.equals(framing) || CHUNK_END.equals(framing)
        || CHUNK_END_LF.equals(framing) || CHUNK_SIZE.equals(framing);
    if (!known || (counted ? remaining <= 0 : remaining != 0)) {
      throw new IllegalArgumentException("not a body position: " + framing + " " + remaining);
    }
    return new BodyPosition(framing, remaining);
  }
}
