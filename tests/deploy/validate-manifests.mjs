// Validates rendered Kubernetes manifests offline.
//
//   node validate-manifests.mjs <node_modules dir> <manifest.yaml>...
//
// Standard objects: the kubernetes-models schema validator (types, enums, required fields), plus a
// strict unknown-field check walked from the same package's type declarations, because the JSON
// schemas accept unknown fields that the API server would silently drop (a typo such as
// `readOnlyRootFileSystem` would pass the schema and disable the setting).
// Dapr objects and the Prometheus Operator's PrometheusRule (monitoring-specs.mjs): checked against the field sets of Dapr's documented resource specs / CRDs
// (kept in dapr-specs.mjs). Unknown kinds are errors, never skipped.
//
// Prints one JSON object {documents, kinds, errors:[{source, kind, name, message}]}; exit code 1
// when there are errors, 2 on usage or environment problems.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { validateDaprObject } from "./dapr-specs.mjs";
import { validateMonitoringObject } from "./monitoring-specs.mjs";

const [nodeModules, ...files] = process.argv.slice(2);
if (!nodeModules || files.length === 0) {
  console.error("usage: node validate-manifests.mjs <node_modules dir> <manifest.yaml>...");
  process.exit(2);
}

const require = createRequire(path.join(path.resolve(nodeModules), "noop.js"));
const YAML = require("yaml");
const modelsRoot = path.dirname(require.resolve("kubernetes-models/package.json"));

// apiVersion/kind -> module under kubernetes-models ("v1" core objects live in "v1/").
function modelModule(apiVersion, kind) {
  return `kubernetes-models/${apiVersion}/${kind}`;
}

// ---- strict unknown-field check from the .d.ts declarations -------------------------------------
const declarationCache = new Map();

function readDeclaration(file) {
  if (declarationCache.has(file)) return declarationCache.get(file);
  let result = null;
  if (fs.existsSync(file)) {
    const text = fs.readFileSync(file, "utf8");
    const imports = new Map();
    for (const m of text.matchAll(/^import \{ ([^}]+) \} from "([^"]+)";$/gm)) {
      for (const name of m[1].split(",").map((s) => s.trim())) imports.set(name, m[2]);
    }
    const start = text.search(/^export interface I\w+/m);
    if (start >= 0) {
      const body = text.slice(start, text.indexOf("\n}\n", start));
      const props = new Map();
      for (const m of body.matchAll(/^ {4}"([^"]+)"\??: (.+?);?$/gm)) props.set(m[1], m[2].trim());
      result = { file, imports, props };
    }
  }
  declarationCache.set(file, result);
  return result;
}

function resolveImport(fromFile, specifier) {
  const base = specifier.startsWith(".")
    ? path.resolve(path.dirname(fromFile), specifier)
    : path.join(path.resolve(nodeModules), specifier);
  return `${base}.d.ts`;
}

// Returns {decl, array} for a property type that names another declared interface, else null.
function referencedDeclaration(decl, type) {
  const m = /^(Array<)?(I[A-Za-z0-9]+)>?$/.exec(type);
  if (!m || !decl.imports.has(m[2])) return null;
  const target = readDeclaration(resolveImport(decl.file, decl.imports.get(m[2])));
  return target ? { decl: target, array: Boolean(m[1]) } : null;
}

function unknownFields(value, decl, at, out) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (!decl.props.has(key)) {
      out.push(`${at || "/"}: unknown field "${key}"`);
      continue;
    }
    const ref = referencedDeclaration(decl, decl.props.get(key));
    if (!ref) continue;
    if (ref.array && Array.isArray(child)) {
      child.forEach((item, i) => unknownFields(item, ref.decl, `${at}/${key}/${i}`, out));
    } else if (!ref.array) {
      unknownFields(child, ref.decl, `${at}/${key}`, out);
    }
  }
}

// ---- main ----------------------------------------------------------------------------------------
const errors = [];
const kinds = {};
let documents = 0;

for (const file of files) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      errors.push({ source: file, kind: "?", name: "?", message: doc.errors.map((e) => e.message).join("; ") });
      continue;
    }
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue;
    documents++;
    const kind = obj.kind ?? "?";
    const name = obj.metadata?.name ?? "?";
    const key = `${obj.apiVersion}/${kind}`;
    kinds[key] = (kinds[key] ?? 0) + 1;
    const report = (message) => errors.push({ source: file, kind, name, message });

    if (typeof obj.apiVersion === "string" && obj.apiVersion.startsWith("dapr.io/")) {
      for (const message of validateDaprObject(obj)) report(message);
      continue;
    }

    // Prometheus Operator CRDs (the chart's optional PrometheusRule): the CRD's field set, not kubernetes-models.
    if (typeof obj.apiVersion === "string" && obj.apiVersion.startsWith("monitoring.coreos.com/")) {
      for (const message of validateMonitoringObject(obj)) report(message);
      continue;
    }

    let Model;
    try {
      Model = require(modelModule(obj.apiVersion, kind))[kind];
    } catch {
      report(`no kubernetes-models schema for ${key}`);
      continue;
    }
    try {
      new Model(obj).validate();
    } catch (e) {
      report(e.message);
    }
    const decl = readDeclaration(path.join(modelsRoot, obj.apiVersion, `${kind}.d.ts`));
    if (!decl) {
      report(`no type declaration for ${key}`);
      continue;
    }
    const unknown = [];
    unknownFields(obj, decl, "", unknown);
    for (const message of unknown) report(message);
  }
}

console.log(JSON.stringify({ documents, kinds, errors }, null, 2));
process.exit(errors.length > 0 ? 1 : 0);
