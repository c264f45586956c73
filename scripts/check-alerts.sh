#!/usr/bin/env bash
# Validates the Prometheus alert rules and runs their unit tests. CI installs the Debian `prometheus`
# package (which ships promtool) before calling this.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v promtool >/dev/null 2>&1; then
  echo "check-alerts: promtool not found; install it (Debian: apt-get install -y prometheus) and re-run" >&2
  exit 1
fi

promtool check rules config/alerts.yml
promtool test rules config/alerts.test.yml
