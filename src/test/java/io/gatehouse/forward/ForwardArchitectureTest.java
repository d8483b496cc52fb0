package io.gatehouse.forward;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The forward proxy builds on relay/pool/http/config/metrics only; forward and reverse never meet. */
class ForwardArchitectureTest {
  private final com.tngtech.archunit.core.domain.JavaClasses classes = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("io.gatehouse");

  @Test
  void forwardUsesOnlyTheLayersBelowIt() {
    noClasses().that().resideInAPackage("io.gatehouse.forward..")
        .should().dependOnClassesThat().resideInAnyPackage("io.gatehouse.reverse..", "io.gatehouse.lifecycle..",
            "io.gatehouse.listener..", "io.gatehouse.admin..", "io.gatehouse.cli..", "io.gatehouse.deploy..")
        .check(classes);
  }

  @Test
  void reverseNeverUsesForward() {
    noClasses().that().resideInAPackage("io.gatehouse.reverse..")
        .should().dependOnClassesThat().resideInAPackage("io.gatehouse.forward..")
        .check(classes);
  }
}
