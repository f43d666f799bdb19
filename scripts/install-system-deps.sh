#!/usr/bin/env bash
# System packages (Debian): offline Fashion-MNIST for the image datasets and Chromium for the
# report's browser test. Installed where we are root and apt-get exists, one package per
# apt-get call, so that one that cannot be installed never takes the other down with it.
#
# Exit status: 0 when every package is installed (or DENOISEBENCH_NO_APT=1 skips them all);
# 1, naming each package, when one cannot be installed. Not root or no apt-get: a warning
# (exit 0) on a developer machine, where the image datasets then need `source:` pointing at a
# local copy and the browser test skips; an error (exit 1) under CI=true, where every test must
# run (tests/unit/test_system_deps.py).
set -uo pipefail
PKGS=${DENOISEBENCH_SYSTEM_PKGS:-"dataset-fashion-mnist chromium"}
say() { echo "install-system-deps: $*"; }
err() { echo "install-system-deps: ERROR: $*" >&2; }

if [ "${DENOISEBENCH_NO_APT:-0}" = 1 ]; then
  say "DENOISEBENCH_NO_APT=1, skipping $PKGS"; exit 0
fi
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  if [ "${CI:-}" = true ]; then
    err "not root or no apt-get, cannot install:$missing (CI=true: every test must run)"
    exit 1
  fi
  echo "install-system-deps: WARNING: not root or no apt-get; not installed:$missing" \
       "(image datasets need a local source:, the browser test skips)" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
say "installing$missing"
if ! apt-get update -qq; then
  err "apt-get update failed; cannot install:$missing"
  exit 1
fi
failed=""
for p in $missing; do
  if ! apt-get install -y -qq --no-install-recommends "$p" >/dev/null \
      || ! dpkg -s "$p" >/dev/null 2>&1; then
    err "apt-get could not install $p"
    failed="$failed $p"
  fi
done
if [ -n "$failed" ]; then
  err "not installed:$failed"
  exit 1
fi
say "installed$missing"
