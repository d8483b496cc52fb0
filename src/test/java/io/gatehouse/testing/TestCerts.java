package io.gatehouse.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Assumptions;

/**
 * A self-signed certificate for {@code localhost} and {@code 127.0.0.1} with its private key, as
 * PEM files made by the {@code openssl} binary (PKCS#8 key, as Netty's {@code SslContextBuilder}
 * wants). The certificate is its own CA, so it works as curl's {@code --cacert} too.
 */
public record TestCerts(Path certificate, Path privateKey) {

    public enum KeyType { EC, RSA }

    private static final long OPENSSL_TIMEOUT_SECONDS = 30;

    /** An EC P-256 certificate in {@code dir} (a JUnit {@code @TempDir}, typically). */
    public static TestCerts selfSigned(Path dir) {
        return selfSigned(dir, KeyType.EC);
    }

    /** A certificate in a fresh temporary directory, deleted on JVM exit. */
    public static TestCerts selfSigned() {
        try {
            Path dir = Files.createTempDirectory("gatehouse-certs");
            TestCerts certs = selfSigned(dir, KeyType.EC);
            dir.toFile().deleteOnExit();
            certs.certificate().toFile().deleteOnExit();
            certs.privateKey().toFile().deleteOnExit();
            return certs;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static TestCerts selfSigned(Path dir, KeyType type) {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        List<String> command = new ArrayList<>(List.of("openssl", "req", "-x509", "-nodes", "-sha256", "-days", "30",
                "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", key.toString(), "-out", cert.toString()));
        if (type == KeyType.EC) {
            command.addAll(List.of("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"));
        } else {
            command.addAll(List.of("-newkey", "rsa:2048"));
        }
        run(command, dir);
        return new TestCerts(cert, key);
    }

    /** Client-side TLS context trusting only this certificate, e.g. for {@code java.net.http.HttpClient}. */
    public SSLContext clientSslContext() {
        try (InputStream in = Files.newInputStream(certificate)) {
            Certificate cert = CertificateFactory.getInstance("X.509").generateCertificate(in);
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            trust.setCertificateEntry("gatehouse-test", cert);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, tmf.getTrustManagers(), null);
            return context;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot build trust context from " + certificate, e);
        }
    }

    private static void run(List<String> command, Path dir) {
        Path log = dir.resolve("openssl.log");
        try {
            Process process = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            if (!process.waitFor(OPENSSL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException("openssl did not finish within " + OPENSSL_TIMEOUT_SECONDS + "s");
            }
            if (process.exitValue() != 0) {
                throw new IllegalStateException("openssl exited " + process.exitValue() + ": "
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            Assumptions.abort("openssl not runnable: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running openssl", e);
        }
    }
}
