#!/usr/bin/env bash
# The whole suite, as `npm test` runs it: jest (the TypeScript suites, on both storage backends,
# with the real terraform) with any arguments given, then pytest for the Python SDK (python/tests)
# against real control planes. Exits non-zero when either fails. PYTEST_JUNIT names a JUnit XML
# report for pytest (CI counts from it).
set -uo pipefail
cd "$(dirname "$0")/.."
NODE_OPTIONS="--experimental-vm-modules --no-warnings=ExperimentalWarning" npx jest "$@"
jest_status=$?
python3 -m pytest python/tests -q -p no:cacheprovider ${PYTEST_JUNIT:+--junitxml="$PYTEST_JUNIT"}
py_status=$?
[ "$jest_status" -eq 0 ] && [ "$py_status" -eq 0 ]
