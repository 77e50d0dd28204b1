// Field sets of Dapr's resource specs, written from the documented specs (docs.dapr.io
// "Component/Subscription/Resiliency/Configuration spec", the per-component reference pages) and
// the fields the dapr.io CRDs keep (the API server prunes anything else). Used by
// validate-manifests.mjs for rendered chart objects and by the tests for components/*.yaml.
//
// Tiny schema language: {obj: {field: schema}, req: [...]} | {map: schema} | {arr: schema}
// | "string" | "int" | "bool" | "duration" | {enum: [...]} | "any".

const duration = "duration";
const policyRef = "string";

const componentSpec = {
  obj: {
    apiVersion: { enum: ["dapr.io/v1alpha1"] },
    kind: { enum: ["Component"] },
    metadata: "meta",
    auth: { obj: { secretStore: "string" }, req: ["secretStore"] },
    scopes: { arr: "string" },
    spec: {
      obj: {
        type: "string",
        version: "string",
        initTimeout: duration,
        ignoreErrors: "bool",
        metadata: {
          arr: {
            obj: { name: "string", value: "any", secretKeyRef: { obj: { name: "string", key: "string" }, req: ["name", "key"] } },
            req: ["name"],
          },
        },
      },
      req: ["type", "version", "metadata"],
    },
  },
  req: ["apiVersion", "kind", "metadata", "spec"],
};

const subscriptionSpec = {
  obj: {
    apiVersion: { enum: ["dapr.io/v2alpha1"] },
    kind: { enum: ["Subscription"] },
    metadata: "meta",
    scopes: { arr: "string" },
    spec: {
      obj: {
        pubsubname: "string",
        topic: "string",
        routes: {
          obj: { default: "string", rules: { arr: { obj: { match: "string", path: "string" }, req: ["match", "path"] } } },
        },
        deadLetterTopic: "string",
        bulkSubscribe: { obj: { enabled: "bool", maxMessagesCount: "int", maxAwaitDurationMs: "int" }, req: ["enabled"] },
        metadata: { map: "string" },
      },
      req: ["pubsubname", "topic", "routes"],
    },
  },
  req: ["apiVersion", "kind", "metadata", "spec"],
};

const targetPolicies = { timeout: policyRef, retry: policyRef, circuitBreaker: policyRef };
const resiliencySpec = {
  obj: {
    apiVersion: { enum: ["dapr.io/v1alpha1"] },
    kind: { enum: ["Resiliency"] },
    metadata: "meta",
    scopes: { arr: "string" },
    spec: {
      obj: {
        policies: {
          obj: {
            timeouts: { map: duration },
            retries: {
              map: { obj: { policy: { enum: ["constant", "exponential"] }, duration, maxInterval: duration, maxRetries: "int" } },
            },
            circuitBreakers: {
              map: { obj: { maxRequests: "int", interval: duration, timeout: duration, trip: "string" } },
            },
          },
        },
        targets: {
          obj: {
            apps: { map: { obj: { ...targetPolicies, circuitBreakerCacheSize: "int" } } },
            actors: { map: { obj: { ...targetPolicies, circuitBreakerScope: { enum: ["id", "type", "both"] }, circuitBreakerCacheSize: "int" } } },
            components: { map: { obj: { inbound: { obj: targetPolicies }, outbound: { obj: targetPolicies } } } },
          },
        },
      },
      req: ["policies", "targets"],
    },
  },
  req: ["apiVersion", "kind", "metadata", "spec"],
};

const action = { enum: ["allow", "deny"] };
const metricSpec = {
  obj: {
    enabled: "bool",
    http: { obj: { increasedCardinality: "bool", pathMatching: { arr: "string" }, excludeVerbs: "bool" } },
    rules: "any",
    latencyDistributionBuckets: { arr: "int" },
    recordErrorCodes: "bool",
  },
  req: ["enabled"],
};
const configurationSpec = {
  obj: {
    apiVersion: { enum: ["dapr.io/v1alpha1"] },
    kind: { enum: ["Configuration"] },
    metadata: "meta",
    spec: {
      obj: {
        tracing: {
          obj: {
            samplingRate: "string",
            stdout: "bool",
            otel: { obj: { endpointAddress: "string", isSecure: "bool", protocol: { enum: ["grpc", "http"] } }, req: ["endpointAddress", "isSecure", "protocol"] },
            zipkin: { obj: { endpointAddress: "string" }, req: ["endpointAddress"] },
          },
          req: ["samplingRate"],
        },
        metric: metricSpec,
        metrics: metricSpec,
        secrets: {
          obj: {
            scopes: {
              arr: {
                obj: { storeName: "string", defaultAccess: action, allowedSecrets: { arr: "string" }, deniedSecrets: { arr: "string" } },
                req: ["storeName"],
              },
            },
          },
          req: ["scopes"],
        },
        accessControl: {
          obj: {
            defaultAction: action,
            trustDomain: "string",
            policies: {
              arr: {
                obj: {
                  appId: "string",
                  defaultAction: action,
                  trustDomain: "string",
                  namespace: "string",
                  operations: { arr: { obj: { name: "string", httpVerb: { arr: "string" }, action }, req: ["name", "action"] } },
                },
                req: ["appId"],
              },
            },
          },
        },
        api: "any",
        appHttpPipeline: "any",
        httpPipeline: "any",
        components: { obj: { deny: { arr: "string" } } },
        features: { arr: { obj: { name: "string", enabled: "bool" }, req: ["name", "enabled"] } },
        logging: "any",
        mtls: "any",
        nameResolution: "any",
        wasm: "any",
        workflow: "any",
      },
    },
  },
  req: ["apiVersion", "kind", "metadata", "spec"],
};

const specsByKind = {
  Component: componentSpec,
  Subscription: subscriptionSpec,
  Resiliency: resiliencySpec,
  Configuration: configurationSpec,
};

// Documented metadata fields per component type. Dapr matches metadata names case-insensitively.
const aws = ["region", "accessKey", "secretKey", "sessionToken", "endpoint", "assumeRoleArn", "sessionName"];
const stateCommon = ["keyPrefix", "actorStateStore"];
const redisCommon = [
  "redisHost", "redisPassword", "redisUsername", "enableTLS", "insecureSkipTLSVerify", "clientCert", "clientKey",
  "failover", "sentinelMasterName", "redisType", "redisDB", "redisMaxRetries", "redisMinRetryInterval",
  "redisMaxRetryInterval", "dialTimeout", "readTimeout", "writeTimeout", "poolSize", "poolTimeout", "maxConnAge",
  "minIdleConns", "idleCheckFrequency", "idleTimeout",
];
export const componentMetadata = {
  "state.aws.dynamodb": { fields: [...aws, ...stateCommon, "table", "ttlAttributeName", "partitionKey"], required: ["table"] },
  "pubsub.aws.snssqs": {
    fields: [
      ...aws, "consumerID", "messageVisibilityTimeout", "messageReceiveLimit", "messageRetryLimit", "sqsDeadLettersQueueName",
      "messageWaitTimeSeconds", "messageMaxNumber", "fifo", "fifoMessageGroupID", "disableEntityManagement",
      "disableDeleteOnRetryLimit", "assetsManagementTimeoutSeconds", "concurrencyMode", "concurrencyLimit", "accountID",
    ],
    required: ["region"],
  },
  "bindings.aws.s3": {
    fields: [...aws, "bucket", "forcePathStyle", "decodeBase64", "encodeBase64", "disableSSL", "insecureSSL", "storageClass"],
    required: ["bucket", "region"],
  },
  "bindings.localstorage": { fields: ["rootPath"], required: ["rootPath"] },
  "secretstores.local.file": { fields: ["secretsFile", "nestedSeparator", "multiValued"], required: ["secretsFile"] },
  "secretstores.kubernetes": { fields: ["defaultNamespace", "kubeconfigPath"], required: [] },
  "state.redis": { fields: [...redisCommon, ...stateCommon, "ttlInSeconds", "queryIndexes"], required: ["redisHost"] },
  "pubsub.redis": {
    fields: [...redisCommon, "consumerID", "redeliverInterval", "processingTimeout", "queueDepth", "concurrency", "maxLenApprox", "streamTTL"],
    required: ["redisHost"],
  },
};

const durationPattern = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;
const namePattern = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function check(schema, value, at, out) {
  if (schema === "any") return;
  if (schema === "meta") {
    if (typeof value !== "object" || value === null || typeof value.name !== "string") out.push(`${at}: metadata.name is required`);
    else if (!namePattern.test(value.name)) out.push(`${at}/name: "${value.name}" is not a lowercase DNS-1123 name`);
    return;
  }
  if (schema === "string") {
    if (typeof value !== "string") out.push(`${at}: expected a string, got ${JSON.stringify(value)}`);
    return;
  }
  if (schema === "int") {
    if (!Number.isInteger(value)) out.push(`${at}: expected an integer, got ${JSON.stringify(value)}`);
    return;
  }
  if (schema === "bool") {
    if (typeof value !== "boolean") out.push(`${at}: expected a boolean, got ${JSON.stringify(value)}`);
    return;
  }
  if (schema === duration) {
    if (typeof value !== "string" || !durationPattern.test(value)) out.push(`${at}: expected a Go duration such as 5s, got ${JSON.stringify(value)}`);
    return;
  }
  if (schema.enum) {
    if (!schema.enum.includes(value)) out.push(`${at}: ${JSON.stringify(value)} is not one of ${schema.enum.join(", ")}`);
    return;
  }
  if (schema.arr) {
    if (!Array.isArray(value)) out.push(`${at}: expected a list`);
    else value.forEach((item, i) => check(schema.arr, item, `${at}/${i}`, out));
    return;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    out.push(`${at}: expected an object`);
    return;
  }
  if (schema.map) {
    for (const [k, v] of Object.entries(value)) check(schema.map, v, `${at}/${k}`, out);
    return;
  }
  for (const field of schema.req ?? []) if (!(field in value)) out.push(`${at || "/"}: missing required field "${field}"`);
  for (const [k, v] of Object.entries(value)) {
    if (!(k in schema.obj)) out.push(`${at || "/"}: unknown field "${k}"`);
    else check(schema.obj[k], v, `${at}/${k}`, out);
  }
}

function componentRules(obj, out) {
  const type = obj.spec?.type;
  const known = componentMetadata[type];
  if (!known) {
    out.push(`/spec/type: component type "${type}" has no documented field set here`);
    return;
  }
  const items = obj.spec.metadata ?? [];
  const lower = new Set(known.fields.map((f) => f.toLowerCase()));
  const names = new Map();
  for (const item of items) {
    const key = String(item.name).toLowerCase();
    if (!lower.has(key)) out.push(`/spec/metadata: "${item.name}" is not a documented field of ${type}`);
    if (names.has(key)) out.push(`/spec/metadata: "${item.name}" is set twice`);
    names.set(key, item);
    const hasValue = "value" in item;
    const hasRef = "secretKeyRef" in item;
    if (hasValue === hasRef) out.push(`/spec/metadata/${item.name}: set exactly one of value or secretKeyRef`);
    if (hasValue && typeof item.value !== "string") out.push(`/spec/metadata/${item.name}: quote the value (metadata values are strings), got ${JSON.stringify(item.value)}`);
    if (hasRef && !obj.auth?.secretStore) out.push(`/spec/metadata/${item.name}: secretKeyRef needs auth.secretStore`);
  }
  for (const field of known.required) if (!names.has(field.toLowerCase())) out.push(`/spec/metadata: missing required field "${field}" of ${type}`);
  if (type.startsWith("state.") && names.get("keyprefix")?.value !== undefined) {
    const prefix = names.get("keyprefix").value;
    if (!["appid", "name", "namespace", "none"].includes(prefix) && prefix.includes("||")) out.push(`/spec/metadata/keyPrefix: "${prefix}" must not contain "||"`);
  }
  if (type === "pubsub.aws.snssqs" && names.has("sqsdeadlettersqueuename")) {
    const receive = Number(names.get("messagereceivelimit")?.value);
    const retry = Number(names.get("messageretrylimit")?.value ?? 10);
    if (!(receive > 0)) out.push("/spec/metadata: sqsDeadLettersQueueName needs messageReceiveLimit > 0");
    else if (!(receive < retry)) out.push("/spec/metadata: messageReceiveLimit must be smaller than messageRetryLimit");
  }
  for (const key of ["accesskey", "secretkey", "sessiontoken"]) {
    if (names.get(key) && "value" in names.get(key)) out.push(`/spec/metadata/${key}: a plain-text AWS credential; use IRSA (none) or secretKeyRef`);
  }
}

function resiliencyRules(obj, out) {
  const policies = obj.spec?.policies ?? {};
  const kinds = { timeout: policies.timeouts ?? {}, retry: policies.retries ?? {}, circuitBreaker: policies.circuitBreakers ?? {} };
  const checkRefs = (target, at) => {
    for (const [k, table] of Object.entries(kinds)) {
      if (target?.[k] !== undefined && !(target[k] in table)) out.push(`${at}/${k}: policy "${target[k]}" is not defined`);
    }
  };
  for (const [app, target] of Object.entries(obj.spec?.targets?.apps ?? {})) checkRefs(target, `/spec/targets/apps/${app}`);
  for (const [name, target] of Object.entries(obj.spec?.targets?.components ?? {})) {
    checkRefs(target?.inbound, `/spec/targets/components/${name}/inbound`);
    checkRefs(target?.outbound, `/spec/targets/components/${name}/outbound`);
  }
}

function subscriptionRules(obj, out) {
  const routes = obj.spec?.routes ?? {};
  if (routes.default === undefined && !(routes.rules?.length > 0)) out.push("/spec/routes: needs a default route or rules");
  for (const path of [routes.default, ...(routes.rules ?? []).map((r) => r.path)]) {
    if (path !== undefined && !String(path).startsWith("/")) out.push(`/spec/routes: path "${path}" must start with /`);
  }
}

/** Returns the list of problems of one Dapr object (empty when it is valid). */
export function validateDaprObject(obj) {
  const out = [];
  const spec = specsByKind[obj.kind];
  if (!spec) return [`unsupported Dapr kind ${obj.apiVersion}/${obj.kind}`];
  check(spec, obj, "", out);
  if (obj.kind === "Component") componentRules(obj, out);
  if (obj.kind === "Resiliency") resiliencyRules(obj, out);
  if (obj.kind === "Subscription") subscriptionRules(obj, out);
  return out;
}
