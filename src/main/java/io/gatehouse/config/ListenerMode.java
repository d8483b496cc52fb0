package io.gatehouse.config;

/** What a listener does with requests: forward (clients to the internet) or reverse (to clusters). */
public enum ListenerMode {
  FORWARD,
  REVERSE
}
