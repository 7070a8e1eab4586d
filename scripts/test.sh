#!/usr/bin/env bash
# The test command: sets up what the tests need, then runs every test.
# `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo test --locked --all-features "$@"
