package io.gatehouse.deploy;

/**
 * What a step of a deployment with sticky cohorts hands the route besides its weights: which
 * cluster is the target and how clients keep their cohort. The proxy compiles it into the route,
 * so the request path reads it from the generation like the weights.
 *
 * @param deployment the deployment's id: a cohort cookie of another deployment is not honoured
 */
public record Split(String deployment, String target, Sticky sticky) {}
