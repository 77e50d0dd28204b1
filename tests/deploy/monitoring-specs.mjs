// Field set of the Prometheus Operator's PrometheusRule (monitoring.coreos.com/v1), written from its CRD
// (prometheus-operator Documentation/api.md: PrometheusRuleSpec, RuleGroup, Rule); the API server prunes or
// refuses anything else. Checked the same way as the Dapr objects (dapr-specs.mjs' schema language), plus the
// rules Prometheus itself enforces when it loads the group: one of alert/record, an expression, durations in
// Prometheus' format, unique group names.
import { check } from "./dapr-specs.mjs";

const promDuration = /^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$/;

const ruleSpec = {
  obj: {
    alert: "string",
    record: "string",
    expr: "any",
    for: "string",
    keep_firing_for: "string",
    labels: { map: "string" },
    annotations: { map: "string" },
  },
  req: ["expr"],
};

const prometheusRuleSpec = {
  obj: {
    apiVersion: { enum: ["monitoring.coreos.com/v1"] },
    kind: { enum: ["PrometheusRule"] },
    metadata: "meta",
    spec: {
      obj: {
        groups: {
          arr: {
            obj: {
              name: "string",
              interval: "string",
              query_offset: "string",
              limit: "int",
              partial_response_strategy: "string",
              labels: { map: "string" },
              rules: { arr: ruleSpec },
            },
            req: ["name"],
          },
        },
      },
    },
  },
  req: ["apiVersion", "kind", "metadata", "spec"],
};

/** Returns the problems of one monitoring.coreos.com object (empty when valid). */
export function validateMonitoringObject(obj) {
  if (obj.kind !== "PrometheusRule") return [`unsupported monitoring kind ${obj.apiVersion}/${obj.kind}`];
  const out = [];
  check(prometheusRuleSpec, obj, "", out);
  const groups = new Set();
  (obj.spec?.groups ?? []).forEach((group, g) => {
    if (groups.has(group.name)) out.push(`/spec/groups/${g}: group name "${group.name}" is used twice`);
    groups.add(group.name);
    (group.rules ?? []).forEach((rule, r) => {
      const at = `/spec/groups/${g}/rules/${r}`;
      if (("alert" in rule) === ("record" in rule)) out.push(`${at}: set exactly one of alert or record`);
      if (typeof rule.expr !== "string" && typeof rule.expr !== "number") out.push(`${at}/expr: expected a PromQL expression`);
      else if (String(rule.expr).trim() === "") out.push(`${at}/expr: empty expression`);
      for (const key of ["for", "keep_firing_for"]) {
        if (key in rule && (rule[key] === "" || !promDuration.test(rule[key]))) out.push(`${at}/${key}: "${rule[key]}" is not a Prometheus duration`);
      }
      if ("record" in rule && ("for" in rule || "annotations" in rule)) out.push(`${at}: a recording rule takes no for/annotations`);
    });
  });
  return out;
}
