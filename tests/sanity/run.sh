#!/usr/bin/env bash
# ansible-test sanity for aifabric.cluster (called by `make sanity`).
#
# ansible-test needs the collection at .../ansible_collections/<namespace>/<name>, so the
# files of this checkout that git knows about (tracked, plus untracked but not ignored:
# `git ls-files -co --exclude-standard`) are copied, fresh on every run, into
# .cache/sanity/ansible_collections/aifabric/cluster and the tests run there, locally
# (no containers) with Python 3.11 only. The copy gets its own (empty) git repository:
# without one ansible-test would find this checkout's .git above it, in which .cache/ is
# ignored, and see no files at all; with one it lists every copied file as untracked,
# i.e. exactly the files of this checkout.
#
# The sanity tests' own Python requirements (pylint, pycodestyle, yamllint, voluptuous,
# antsibull-changelog, ...) are installed by ansible-test from PyPI into per-test virtual
# environments under $HOME/.ansible/test/venv; HOME is pointed at .cache/sanity/home for
# the run so that they are cached under .cache/ (first run: a few minutes; later: reused).
#
# Exits non-zero on any sanity failure. Extra arguments go to `ansible-test sanity`
# (e.g. `bash tests/sanity/run.sh --test pylint`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
CACHE="$ROOT/.cache/sanity"
# AIFABRIC_SANITY_WORKDIR: where the copy goes (default .cache/sanity), so that two runs
# from one checkout at once do not share a copy; the sanity venvs ($CACHE/home) are shared
WORK="${AIFABRIC_SANITY_WORKDIR:-$CACHE}"
DEST="$WORK/ansible_collections/aifabric/cluster"
PYTHON_VERSION=3.11

if [ ! -x "$VENV/bin/ansible-test" ]; then
  echo "sanity: $VENV/bin/ansible-test not found; run 'make venv' first" >&2
  exit 2
fi
export PATH="$VENV/bin:$PATH"

# 1. fresh copy of the collection's files
rm -rf "$WORK/ansible_collections"
mkdir -p "$DEST" "$CACHE/home"
cd "$ROOT"
git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
  # tracked files deleted in the working tree are listed too; skip them
  if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
done | xargs -0 --no-run-if-empty cp -P --parents -t "$DEST"
git -C "$DEST" init -q

# 2. tests that cannot apply here
skip=()
# pslint lints PowerShell (needs pwsh); the collection has no PowerShell.
skip+=(--skip-test pslint)
# The shellcheck test needs the shellcheck binary (Debian package of that name): install
# it when missing and we can; without it ansible-test skips that test with a warning.
if ! command -v shellcheck >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "sanity: installing shellcheck (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends shellcheck >/dev/null 2>&1; } \
    || echo "sanity: WARNING: could not install shellcheck; the shellcheck test will be skipped" >&2
fi

# 3. pip bootstrap for ansible-test's virtual environments. ansible-test downloads
# get-pip.py from ci-files.testing.ansible.com (unreachable from many build hosts) unless
# ~/.ansible/test/cache/get_pip_<version>.py exists; provide a stand-in that bootstraps
# the pip bundled with Python (ensurepip), which is all the sanity venvs need. The
# sanity requirements themselves then come from the configured package index (PyPI).
# keep the invoking user's pip configuration (index, proxy, certificates) for the new HOME
for conf in "$HOME/.config/pip/pip.conf" "$HOME/.pip/pip.conf"; do
  if [ -z "${PIP_CONFIG_FILE:-}" ] && [ -f "$conf" ]; then export PIP_CONFIG_FILE="$conf"; fi
done
export HOME="$CACHE/home"
pip_version="$(sed -n "s/.*pip='\([0-9.]*\)'.*/\1/p" \
  "$("$VENV/bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py" | sed -n 1p)"
get_pip="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [ -n "$pip_version" ] && [ ! -s "$get_pip" ]; then
  mkdir -p "$(dirname "$get_pip")"
  cat > "$get_pip" <<'PY'
# Stand-in for get-pip.py, written by tests/sanity/run.sh: bootstrap the pip bundled
# with this Python (ensurepip), offline. ansible-test's arguments are not needed.
import ensurepip

ensurepip.bootstrap(upgrade=True)
PY
fi

# 4. run
cd "$DEST"
export PIP_CACHE_DIR="$ROOT/.cache/pip"
export PIP_DISABLE_PIP_VERSION_CHECK=1
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0
exec ansible-test sanity --local --python "$PYTHON_VERSION" --color no "${skip[@]}" "$@"
