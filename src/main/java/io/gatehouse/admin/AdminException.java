package io.gatehouse.admin;

/** A refused admin call: the HTTP status, the field or name at fault, and why. */
public final class AdminException extends RuntimeException {
  private final int status;
  private final String field;

  public AdminException(int status, String field, String message) {
    super(message);
    this.status = status;
    this.field = field;
  }

  public static AdminException notFound(String what, String name) {
    return new AdminException(404, what, "no " + what + " '" + name + "'");
  }

  public static AdminException badRequest(String field, String message) {
    return new AdminException(400, field, message);
  }

  public int status() {
    return status;
  }

  public String field() {
    return field;
  }
}
