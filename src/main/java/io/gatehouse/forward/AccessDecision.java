package io.gatehouse.forward;

/** The verdict of the access policy for one request, naming the rule that decided. */
sealed interface AccessDecision {
  String rule();

  /**
   * @param destinationListed the deciding rule named this destination in its {@code hosts}: an
   *     explicit allow that lets it through {@code blockPrivateDestinations}
   */
  record Allow(String rule, boolean destinationListed) implements AccessDecision {}

  record Deny(String rule) implements AccessDecision {}
}
