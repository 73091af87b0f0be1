#!/usr/bin/env bash
# Type-check sst.config.ts offline. `sst install` needs pulumi only to report its version, so a
# shim that prints the pinned version lets it run without GitHub; the AWS provider comes
# from the npm registry (NO_BUN=1: npm instead of bun). It writes .sst/platform/config.d.ts,
# the global types ($config, sst, aws) that `tsc` then checks sst.config.ts against.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

# A throwaway XDG_CONFIG_HOME: the shim never lands in the user's ~/.config/sst.
xdg=$(mktemp -d "${TMPDIR:-/tmp}/icp-infra-xdg.XXXXXX")
trap 'rm -rf "$xdg"' EXIT
mkdir -p "$xdg/sst/bin"
printf '#!/bin/sh\necho v3.215.0\n' >"$xdg/sst/bin/pulumi"
chmod +x "$xdg/sst/bin/pulumi"

export XDG_CONFIG_HOME="$xdg" NO_BUN=1 SST_TELEMETRY_DISABLED=1
npx --no-install sst install --stage "${SST_STAGE:-dev}"
test -f .sst/platform/config.d.ts || { echo "sst install did not produce .sst/platform/config.d.ts" >&2; exit 1; }

npx --no-install tsc -p scripts/tsconfig.infra.json
echo "check:infra ok in $(($(date +%s) - start)) s"
