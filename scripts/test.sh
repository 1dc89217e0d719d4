#!/usr/bin/env bash
# Set up everything the tests need and run the whole test suite.
# Usage: bash scripts/test.sh [PYTEST ARGS]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# the type checker sees every first-party module ([tool.mypy] in pyproject.toml)
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"
