#!/usr/bin/env bash
# The bad-input catalogue (issue 15): every hostile case, ending with a table case -> outcome.
# Usage: bash scripts/catalogue.sh [extra pytest options]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
exec "$PYTHON" -m pytest -m catalogue -q "$@"
