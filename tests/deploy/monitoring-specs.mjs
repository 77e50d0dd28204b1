// Field sets of the Prometheus Operator's PrometheusRule and PodMonitor (monitoring.coreos.com/v1), written from
// their CRDs (prometheus-operator Documentation/api.md: PrometheusRuleSpec, RuleGroup, Rule; PodMonitorSpec,
// PodMetricsEndpoint, NamespaceSelector); the API server prunes or
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

const labelSelector = {
  obj: {
    matchLabels: { map: "string" },
    matchExpressions: { arr: { obj: { key: "string", operator: { enum: ["In", "NotIn", "Exists", "DoesNotExist"] }, values: { arr: "string" } }, req: ["key", "operator"] } },
  },
};

const podMetricsEndpoint = {
  obj: {
    port: "string",
    portNumber: "int",
    path: "string",
    scheme: { enum: ["http", "https", "HTTP", "HTTPS"] },
    params: { map: { arr: "string" } },
    interval: "string",
    scrapeTimeout: "string",
    honorLabels: "bool",
    honorTimestamps: "bool",
    enableHttp2: "bool",
    filterRunning: "bool",
    followRedirects: "bool",
    relabelings: { arr: "any" },
    metricRelabelings: { arr: "any" },
  },
};

const podMonitorSpec = {
  obj: {
    apiVersion: { enum: ["monitoring.coreos.com/v1"] },
    kind: { enum: ["PodMonitor"] },
    metadata: "meta",
    spec: {
      obj: {
        jobLabel: "string",
        podTargetLabels: { arr: "string" },
        podMetricsEndpoints: { arr: podMetricsEndpoint },
        selector: labelSelector,
        namespaceSelector: { obj: { any: "bool", matchNames: { arr: "string" } } },
        sampleLimit: "int",
        targetLimit: "int",
        labelLimit: "int",
        attachMetadata: { obj: { node: "bool" } },
      },
      req: ["selector"],
    },
  },
  req: ["apiVersion", "kind", "metadata", "spec"],
};

/** Returns the problems of a PodMonitor (empty when valid): its fields, and durations Prometheus accepts. */
function validatePodMonitor(obj) {
  const out = [];
  check(podMonitorSpec, obj, "", out);
  (obj.spec?.podMetricsEndpoints ?? []).forEach((endpoint, e) => {
    for (const key of ["interval", "scrapeTimeout"]) {
      if (key in endpoint && !promDuration.test(endpoint[key])) out.push(`/spec/podMetricsEndpoints/${e}/${key}: "${endpoint[key]}" is not a Prometheus duration`);
    }
    if (!("port" in endpoint) && !("portNumber" in endpoint)) out.push(`/spec/podMetricsEndpoints/${e}: set port (a container port's name) or portNumber`);
  });
  return out;
}

/** Returns the problems of one monitoring.coreos.com object (empty when valid). */
export function validateMonitoringObject(obj) {
  if (obj.kind === "PodMonitor") return validatePodMonitor(obj);
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
