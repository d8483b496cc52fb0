package io.gatehouse.config;

import java.nio.file.Path;

/** Proxy Basic authentication against an htpasswd file of bcrypt hashes. */
public record AuthConfig(String realm, Path users) {}
