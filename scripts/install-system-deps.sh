#!/usr/bin/env bash
# Optional system packages (Debian): offline Fashion-MNIST for the image datasets and Chromium
# for the report's browser test. Installed only where we are root and apt-get exists; without
# them the image datasets need `source:` pointing at a local copy and the browser test skips.
set -uo pipefail
PKGS="dataset-fashion-mnist chromium"
if [ "${DENOISEBENCH_NO_APT:-0}" = 1 ]; then
  echo "install-system-deps: DENOISEBENCH_NO_APT=1, skipping $PKGS"; exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: not root or no apt-get; skipping optional packages: $PKGS"; exit 0
fi
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
[ -z "$missing" ] && exit 0
echo "install-system-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null; }; then
  echo "install-system-deps: apt-get failed; continuing without:$missing" >&2
fi
exit 0
