#!/usr/bin/env bash
# Set up everything the tests need and run the whole test suite.
# Usage: bash scripts/test.sh [PYTEST ARGS]
set -euo pipefail
cd "$(dirname "$0")/.."
# the train extra brings TensorFlow for the retraining tests; pip keeps the downloaded wheels
# in its own cache (PIP_CACHE_DIR, by default ~/.cache/pip), outside the checkout
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pip}"
bash scripts/setup.sh "test,train"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# the type checker sees every first-party module ([tool.mypy] in pyproject.toml)
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
