package io.gatehouse.relay;

import java.util.function.LongSupplier;

/** What every client connection of one listener shares. */
public record ConnectionContext(
    String listenerName, boolean tls, long maxBodyBytes, ExchangeObserver observer, LongSupplier clock) {}
