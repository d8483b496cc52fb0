package io.gatehouse.http;

/**
 * The fields whose presence a head's one pass notes, as bits ({@link HttpHead#fieldsPresent()}):
 * the fixed hop-by-hop fields ({@link HopByHop}'s {@code *_PRESENT} bits, which decide what is
 * stripped), and {@code Date} and {@code Via}, which the proxy adds to a response that lacks them or
 * appends to. Noting them in the pass lets a forwarded response ask without walking its fields
 * again (a walk per response was 1-3% of the event loop's Java time, docs/benchmarks.md). The HTTP/1
 * parser and the HTTP/2 head builders note them through {@link #of}, so both say the same.
 */
final class FieldPresence {
  /** A {@code Date} field (RFC 9110 §6.6.1). */
  static final int DATE = 1 << 7;
  /** A {@code Via} field (RFC 9110 §7.6.3). */
  static final int VIA = 1 << 8;
  /** The bits of the fixed hop-by-hop fields, {@link HopByHop}'s own. */
  static final int HOP_BY_HOP = DATE - 1;

  private FieldPresence() {}

  /** The bit of the field named {@code a[from, to)} (any case), or 0 for a field not noted. */
  static int of(byte[] a, int from, int to) {
    switch (to - from) {
      case 3:
        return HeadParser.equalsLowerCase(a, from, 3, "via") ? VIA : 0;
      case 4:
        return HeadParser.equalsLowerCase(a, from, 4, "date") ? DATE : 0;
      default:
        return HopByHop.presence(a, from, to);
    }
  }
}
