package io.gatehouse.upstream;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** Balancing is pure logic: it must not depend on Netty or on the packages above it. */
class UpstreamArchitectureTest {
  @Test
  void upstream_depends_only_on_the_jdk_and_config() {
    var classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.gatehouse.upstream");
    noClasses()
        .that().resideInAPackage("io.gatehouse.upstream..")
        .should().dependOnClassesThat().resideOutsideOfPackages(
            "java..", "io.gatehouse.upstream..", "io.gatehouse.config..")
        .check(classes);
  }
}
