#!/usr/bin/env bash
# make docs: the collection's reference docs (modules, filters, tests, and the roles from
# their argument specs), linted and built with antsibull-docs into .cache/docs/.
# Fails on any error, and on any line that antsibull-docs prints as a warning.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
collection="$root/.cache/collections/ansible_collections/aifabric/cluster"
dest="$root/.cache/docs"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# ansible-doc's runs are not part of the test logs that the secret search reads
unset ANSIBLE_LOG_PATH
rm -rf "$dest" && mkdir -p "$dest"
(cd "$collection" && antsibull-docs --config-file "$root/tests/docs/antsibull.cfg" lint-collection-docs --plugin-docs .) 2>&1 | tee "$log"
rc=0
antsibull-docs --config-file "$root/tests/docs/antsibull.cfg" collection --use-current --fail-on-error --dest-dir "$dest" aifabric.cluster > "$log.build" 2>&1 || rc=$?
# antsibull-docs 2.28 on Python 3.11 may print a traceback of its process pool's atexit
# hook (a closed pipe, after the build is written): noise, not a finding
grep -v -e '^Exception ignored in: <module .threading' -e '^Traceback' -e '^  File ' -e '^    ' \
  -e '^OSError: \[Errno 9\]' "$log.build" | tee -a "$log" || true
rm -f "$log.build"
[ "$rc" = 0 ] || { echo "make docs: antsibull-docs failed (rc $rc)" >&2; exit "$rc"; }
if grep -qi 'warn' "$log"; then
  echo "make docs: antsibull-docs warned (above)" >&2
  exit 1
fi
echo "make docs: $(find "$dest" -name '*.rst' | wc -l) pages in $dest"
