package io.gatehouse.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class TestCertsTest {

    @Test
    void writesPemFilesNettyCanLoad(@TempDir Path dir) throws Exception {
        for (TestCerts.KeyType type : TestCerts.KeyType.values()) {
            Path typeDir = Files.createDirectory(dir.resolve(type.name()));

            TestCerts certs = TestCerts.selfSigned(typeDir, type);

            assertThat(Files.readString(certs.certificate())).startsWith("-----BEGIN CERTIFICATE-----");
            assertThat(Files.readString(certs.privateKey())).startsWith("-----BEGIN PRIVATE KEY-----");
            SslContext server = SslContextBuilder.forServer(certs.certificate().toFile(), certs.privateKey().toFile())
                    .build();
            assertThat(server.isServer()).isTrue();
            assertThat(certs.clientSslContext()).isNotNull();
        }
    }
}
