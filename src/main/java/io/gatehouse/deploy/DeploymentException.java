package io.gatehouse.deploy;

/** A refused deployment call: what kind, and the field or name at fault. */
public final class DeploymentException extends RuntimeException {
  public enum Kind { BAD_REQUEST, NOT_FOUND, CONFLICT }

  private final Kind kind;
  private final String field;

  DeploymentException(Kind kind, String field, String message) {
    super(message);
    this.kind = kind;
    this.field = field;
  }

  public Kind kind() {
    return kind;
  }

  public String field() {
    return field;
  }
}
