package io.gatehouse.health;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** Health checking sits just above {@code upstream}: it may use upstream, config, metrics and Netty only. */
class HealthArchitectureTest {
  @Test
  void health_depends_only_on_upstream_config_metrics_and_netty() {
    var classes = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("io.gatehouse.health");
    noClasses()
        .that().resideInAPackage("io.gatehouse.health..")
        .should().dependOnClassesThat().resideOutsideOfPackages(
            "java..", "io.netty..", "org.slf4j..", "io.gatehouse.health..", "io.gatehouse.upstream..",
            "io.gatehouse.config..", "io.gatehouse.metrics..")
        .check(classes);
  }
}
