package io.gatehouse.http;

/**
 * A message head {@link HeadParser} refuses, with why. No stack trace: a refusal is an answer to bad
 * input, not a bug, and costs no more than the message it carries.
 */
public final class HeadParseException extends Exception {
  /** What kind of refusal: the status a request gets follows from it. */
  public enum Kind {
    /** Syntax or framing the RFCs forbid (400 for a request, 502 for a response). */
    MALFORMED,
    /** The start line is longer than allowed (414 for a request). */
    LINE_TOO_LONG,
    /** The head is larger than allowed (431 for a request). */
    HEAD_TOO_LARGE,
  }

  private final Kind kind;

  HeadParseException(Kind kind, String message) {
    super(message, null, false, false);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
