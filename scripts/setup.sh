#!/usr/bin/env bash
# Creates .venv and installs veiviser with the dense encoder (and, with --dev,
# the test tools). Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="encoder"
[ "${1:-}" = "--dev" ] && extras="encoder,dev"

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[${extras}]"
