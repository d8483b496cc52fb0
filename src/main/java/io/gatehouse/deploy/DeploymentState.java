package io.gatehouse.deploy;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** Where a deployment is; the numeric code is the {@code gatehouse_deployment_state} gauge's value. */
public enum DeploymentState {
  PENDING(0), PROGRESSING(1), PAUSED(2), PROMOTED(3), ROLLED_BACK(4), FAILED(5);

  private final int code;

  DeploymentState(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** Still holding a share of the route's traffic: at most one such deployment per route. */
  public boolean running() {
    return this == PENDING || this == PROGRESSING || this == PAUSED;
  }

  @JsonValue
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  @JsonCreator
  public static DeploymentState of(String label) {
    return valueOf(label.toUpperCase(Locale.ROOT));
  }
}
