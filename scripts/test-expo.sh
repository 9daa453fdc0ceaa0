#!/usr/bin/env bash
# Tests of the Expo example app (examples/expo) against a real authguard
# server that the tests build and start themselves (go build ./examples/chi):
# the check that the API types generated from docs/openapi.yaml are current,
# type-check, the vitest suite of the auth layer and hooks, and the
# jest-expo screen tests, and the web build in headless Chromium
# (test/web/browser.mjs: expo export, a static server, playwright-core).
#
#   ./scripts/test-expo.sh
#
# Needs node and npm (Node 20 or later) besides Go, and Debian's chromium
# package (/usr/bin/chromium, or the binary named by CHROMIUM) for the browser
# test; run as root on Debian, the script installs chromium itself with
# apt-get when it is missing. Without them the script skips with the reason
# and exits 0, unless AUTHGUARD_REQUIRE_NODE=1 turns the skip into a failure.
# Dependencies are installed with `npm ci` from the committed lockfile when
# node_modules is missing or older than the lockfile.
set -euo pipefail
cd "$(dirname "$0")/../examples/expo"
export GOTOOLCHAIN=local

skip() {
	if [ "${AUTHGUARD_REQUIRE_NODE:-}" = "1" ]; then
		echo "FAIL: examples/expo tests: $1 (AUTHGUARD_REQUIRE_NODE=1)" >&2
		exit 1
	fi
	echo "SKIP: examples/expo tests: $1"
	exit 0
}
missing=""
for tool in node npm; do
	command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
[ -z "$missing" ] || skip "need node and npm, not found:$missing"
major=$(node -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || skip "need Node 20 or later, found $(node --version)"

# node_modules/.package-lock.json is written by every npm install or ci.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	echo "== npm ci (examples/expo)"
	npm ci --no-audit --no-fund
fi

echo "== generated API types are current (examples/expo)"
gendir=$(mktemp -d)
trap 'rm -rf "$gendir"' EXIT
npx --no-install openapi-typescript ../../docs/openapi.yaml -o "$gendir/openapi.gen.ts" >/dev/null
if ! cmp -s src/api/openapi.gen.ts "$gendir/openapi.gen.ts"; then
	diff -u src/api/openapi.gen.ts "$gendir/openapi.gen.ts" | head -40 || true
	echo "FAIL: examples/expo/src/api/openapi.gen.ts is not what docs/openapi.yaml generates:" \
		"run npm run gen:types in examples/expo and commit the result" >&2
	exit 1
fi

echo "== typecheck (examples/expo)"
npm run --silent typecheck
echo "== vitest (examples/expo)"
npm test --silent
echo "== jest-expo (examples/expo)"
CI=1 npm run --silent test:screens

echo "== web build in Chromium (examples/expo)"
browser=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$browser" ] && [ -z "${CHROMIUM:-}" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
	echo "installing Debian's chromium package"
	export DEBIAN_FRONTEND=noninteractive
	# The package lists may be missing or stale on a fresh machine.
	apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
fi
[ -x "$browser" ] || skip "browser test: no Chromium at $browser (install Debian's chromium package, or set CHROMIUM)"
npm run --silent test:web
