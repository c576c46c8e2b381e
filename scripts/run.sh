#!/usr/bin/env bash
# Runs the assistant with the demo knowledge base: sets up .venv if needed,
# then serves the chat page and API. The first start creates var/veiviser.db,
# imports the demo knowledge base and trains a model (a few minutes).
# Settings come from VEIVISER_* variables (docs/settings.md); arguments are
# passed on to `veiviser serve` (e.g. --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

host=${VEIVISER_HOST:-127.0.0.1}
port=${VEIVISER_PORT:-8000}
shown=$host
[ "$shown" = "0.0.0.0" ] && shown=127.0.0.1
# Demo mode adds /demo/min-side, a fake member portal that signs fictional
# members in without a password. Set VEIVISER_DEMO_MODE=false for anything
# but a demo.
export VEIVISER_DEMO_MODE=${VEIVISER_DEMO_MODE:-true}
if [ "$VEIVISER_DEMO_MODE" = "true" ]; then
  echo "Demo mode: try personal answers at http://$shown:$port/demo/min-side"
fi
# VEIVISER_SIMULATE_DAYS=70 fills an empty database with synthetic traffic
# first, so the statistics pages (Innsikt) have something to show.
if [ -n "${VEIVISER_SIMULATE_DAYS:-}" ]; then
  .venv/bin/veiviser simulate --days "$VEIVISER_SIMULATE_DAYS" --if-empty
fi
echo "Starting veiviser; when it is ready, open http://$shown:$port/ (API docs at /docs)."
exec .venv/bin/veiviser serve --host "$host" --port "$port" "$@"
