package io.gatehouse.lifecycle;

/**
 * Identifies one listening socket across generations: a listener kept by a reload (same address)
 * keeps its key even when renamed, and a socket bound anew gets a fresh one, so a generation's
 * listener entries never mix two sockets that happen to share a name. Compared by identity.
 */
final class ListenerKey {
  private final String firstName;

  ListenerKey(String firstName) {
    this.firstName = firstName;
  }

  @Override
  public String toString() {
    return "listener " + firstName + "@" + Integer.toHexString(System.identityHashCode(this));
  }
}
