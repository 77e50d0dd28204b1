// Prints the YAML documents of each file as JSON: {"<file>": [doc, ...], ...}.
//   node yaml-to-json.mjs <node_modules dir> <file.yaml>...
// Lets the .NET tests read YAML without a YAML library of their own.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const [nodeModules, ...files] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(nodeModules), "noop.js"));
const YAML = require("yaml");
const result = {};
for (const file of files) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  const errors = docs.flatMap((d) => d.errors.map((e) => e.message));
  if (errors.length > 0) {
    console.error(`${file}: ${errors.join("; ")}`);
    process.exit(1);
  }
  result[file] = docs.map((d) => d.toJS()).filter((d) => d !== null && d !== undefined);
}
console.log(JSON.stringify(result));
