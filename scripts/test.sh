#!/usr/bin/env bash
# Runs every test of every module of the workspace, race detector on, then
# builds and vets each module once more on its own (GOWORK=off, test files
# included) so a missing require or go.sum line cannot hide behind the
# workspace. The modules point at each other with replace directives, so the
# code under test is the same in both passes: running it twice would only
# double the time.
#
#   ./scripts/test.sh            all modules
#   ./scripts/test.sh -short     passes extra flags to every go test
#
# Store tests that need PostgreSQL (stores/postgres) or Redis (stores/redis) read
# AUTHGUARD_POSTGRES_URL and AUTHGUARD_REDIS_URL and skip with a reason when
# unset, unless AUTHGUARD_REQUIRE_SERVICES=1 turns the skip into a failure.
# Last, scripts/test-expo.sh runs the Expo example app's tests (type-check,
# vitest, jest-expo, the web build in headless Chromium) when Node is present.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local

mods=$(go list -m -f '{{.Dir}}')
status=0

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt needed:"; echo "$unformatted"; status=1
fi

for d in $mods; do
	rel=${d#"$PWD"/}
	echo "== go vet $rel"
	(cd "$d" && go vet ./...) || status=1
	echo "== go test -race $rel"
	(cd "$d" && go test -race -count=1 "$@" ./...) || status=1
done

for d in $mods; do
	rel=${d#"$PWD"/}
	echo "== GOWORK=off go vet $rel"
	(cd "$d" && GOWORK=off go vet ./...) || status=1
done

# The Expo example app's tests (examples/expo) against the example server:
# they skip with a reason without Node, unless AUTHGUARD_REQUIRE_NODE=1.
echo "== examples/expo (scripts/test-expo.sh)"
./scripts/test-expo.sh || status=1

if [ "$status" -ne 0 ]; then
	echo "FAILED"
else
	echo "ALL TESTS PASSED"
fi
exit "$status"
