#!/usr/bin/env bash
# lab/beside.sh NAME up|run|down [-- CMD...]: a second lab beside the default one, on the same
# machine, for `make test` to run the short scenarios (firmware, preflight, provision) while the
# `cluster` scenario runs. Test-side only.
#
# Every lab uses the same addresses, names and paths (inventories/lab), so the second one gets
# its own copies of what holds them, and nothing else changes:
# - its own network namespace (ip netns NAME-ns): its podman bridges, its 127.0.0.1 (the BMC
#   emulators), its routes to 10.231.0.0/24 and 10.232.0.0/24;
# - its own mount namespace (a file under /run), in which podman's state is its own (storage,
#   run root, network definitions and IPAM, locks) and .cache/lab is its own directory, with
#   the default lab's read-only parts (SSH key, apt repo, mirror) bound in and its image names
#   copied in on every up;
# - its own Ansible SSH control sockets (ANSIBLE_SSH_CONTROL_PATH_DIR).
# The lab image is copied into its storage once (podman save/load).
#
#   up    make the namespaces and load the image
#   run   run CMD inside them (lab/lab.py, molecule, ansible-playbook as usual)
#   down  stop the lab inside (lab/lab.py down) and remove the namespaces
set -euo pipefail
name="$1"; action="$2"; shift 2
[ "${1:-}" = "--" ] && shift
root="$(cd "$(dirname "$0")/.." && pwd)"
state="$root/.cache/$name"
netns="$name-ns"
mntdir="/run/aifabric-beside"
mnt="$mntdir/$name"

up() {
  mkdir -p "$state"/{storage,run,libpod,networks,lab,cp,tmp,default-lab} "$root/.cache/lab"
  if [ ! -e "/run/netns/$netns" ]; then
    ip netns add "$netns"
    ip -n "$netns" link set lo up
  fi
  if ! nsenter --mount="$mnt" true 2>/dev/null; then
    mkdir -p "$mntdir"
    mountpoint -q "$mntdir" || { mount --bind "$mntdir" "$mntdir"; mount --make-private "$mntdir"; }
    touch "$mnt"
    unshare --mount="$mnt" --propagation private true
    # shellcheck disable=SC2016  # the script's own variables, expanded inside it
    nsenter --mount="$mnt" bash -euc '
      root="$1"; state="$2"
      mount --bind "$root/.cache/lab" "$state/default-lab"
      mount --bind "$state/storage" /var/lib/containers/storage
      mount --bind "$state/run" /run/containers
      mount --bind "$state/libpod" /run/libpod 2>/dev/null || { mkdir -p /run/libpod; mount --bind "$state/libpod" /run/libpod; }
      mount --bind "$state/networks" /etc/containers/networks
      mount -t tmpfs -o mode=1777 tmpfs /dev/shm
      mount --bind "$state/lab" "$root/.cache/lab"
      for d in ssh repo mirror gnupg; do
        [ -e "$state/default-lab/$d" ] || continue
        mkdir -p "$root/.cache/lab/$d"
        mount --bind "$state/default-lab/$d" "$root/.cache/lab/$d"
      done
      true' _ "$root" "$state"
  fi
  # the image names, copied from the default lab on every up (an image rebuilt since the
  # namespace was made has a new name)
  # shellcheck disable=SC2016  # the inner bash's own variables
  inside bash -c 'for f in image appliance-image; do
      if [ -e "$1/default-lab/$f" ]; then cp "$1/default-lab/$f" "$2/.cache/lab/$f"; fi
    done' _ "$state" "$root"
  # the lab images, from the default storage into this one
  local images
  images="$(cat "$root/.cache/lab/image" "$root/.cache/lab/appliance-image" 2>/dev/null || true)"
  for image in $images; do
    if ! inside podman image exists "$image"; then
      podman save "$image" | inside podman load -q >/dev/null
    fi
  done
}

inside() {
  # the working directory is entered after the mount namespace, so that relative paths
  # (.cache/lab) resolve to this lab's mounts
  # shellcheck disable=SC2016  # $0 and $@ of the inner bash
  nsenter --mount="$mnt" --net="/run/netns/$netns" \
    env ANSIBLE_SSH_CONTROL_PATH_DIR="$state/cp" TMPDIR="$state/tmp" bash -c 'cd "$0" && exec "$@"' "$PWD" "$@"
}

down() {
  if nsenter --mount="$mnt" true 2>/dev/null; then
    inside python3 "$root/lab/lab.py" down || true
    umount "$mnt" 2>/dev/null || true
  fi
  rm -f "$mnt"
  if [ -d "$mntdir" ] && [ -z "$(ls -A "$mntdir")" ]; then
    umount "$mntdir" 2>/dev/null || true
    rmdir "$mntdir"
  fi
  ip netns del "$netns" 2>/dev/null || true
}

case "$action" in
  up) up ;;
  run) inside "$@" ;;
  down) down ;;
  *) echo "usage: lab/beside.sh NAME up|run|down [-- CMD...]" >&2; exit 2 ;;
esac
