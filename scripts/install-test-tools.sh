#!/usr/bin/env bash
# Installs the tools the test suites need that NuGet does not ship, into <repo>/.tools (git-ignored):
#   - DynamoDB Local (the jar inside npm package amplify-dynamodb-simulator), for the catalog's
#     DynamoDB adapter tests when neither AXENTRA_DYNAMODB_URL nor a Docker engine is available.
# Idempotent: does nothing when the pinned version is already installed. Needs node/npm and a Java runtime.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$repo/.tools"
simulator_version="2.9.30"
marker="$tools/node_modules/amplify-dynamodb-simulator/package.json"

if [[ -f "$marker" ]] && grep -q "\"version\": \"$simulator_version\"" "$marker"; then
  echo "install-test-tools: amplify-dynamodb-simulator $simulator_version already in $tools"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install-test-tools: npm not found; DynamoDB Local tests will be skipped unless AXENTRA_DYNAMODB_URL is set" >&2
  exit 0
fi

mkdir -p "$tools"
[[ -f "$tools/package.json" ]] || echo '{ "name": "axentra-test-tools", "private": true }' > "$tools/package.json"
npm install --prefix "$tools" --ignore-scripts --no-audit --no-fund --loglevel=error "amplify-dynamodb-simulator@$simulator_version"

if ! command -v java >/dev/null 2>&1; then
  echo "install-test-tools: installed DynamoDB Local, but no 'java' on PATH: install a JRE (e.g. apt-get install default-jre-headless)" >&2
fi
echo "install-test-tools: DynamoDB Local ready in $tools/node_modules/amplify-dynamodb-simulator/emulator"
