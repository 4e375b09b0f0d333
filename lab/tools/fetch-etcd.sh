#!/usr/bin/env bash
# etcd for the tests of the API server double (test-side only, never shipped): Debian's
# etcd-server package, the one the lab image carries, downloaded with apt-get (no install,
# no service started) and unpacked into .cache/tools/etcd; .cache/tools/bin/etcd links to
# its binary. Idempotent: a stamp names the package version. Prints the binary's path.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tools="${AIFABRIC_TOOLS_DIR:-$root/.cache/tools}"
version="$(apt-cache policy etcd-server | sed -n 's/^ *Candidate: *//p')"
if [ -z "$version" ] || [ "$version" = "(none)" ]; then
  echo "fetch-etcd: apt knows no etcd-server package (apt-get update?)" >&2
  exit 1
fi
stamp="$tools/.etcd-server-$version.stamp"
if [ -f "$stamp" ] && [ -x "$tools/bin/etcd" ]; then
  echo "$tools/bin/etcd"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -q -o APT::Sandbox::User=root "etcd-server=$version" >&2)
rm -rf "$tools/etcd"
mkdir -p "$tools/etcd" "$tools/bin"
dpkg-deb -x "$work"/etcd-server_*.deb "$tools/etcd"
ln -sfn ../etcd/usr/bin/etcd "$tools/bin/etcd"
# sed, not head: head would close the pipe after one line and, with pipefail, a SIGPIPE of etcd
# (exit 141, by timing) would fail the script
"$tools/bin/etcd" --version | sed -n 1p >&2
rm -f "$tools"/.etcd-server-*.stamp
touch "$stamp"
echo "$tools/bin/etcd"
