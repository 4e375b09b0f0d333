#!/usr/bin/env bash
# Build the lab's sim host image (Debian 12, systemd as PID 1, sshd, python3, sudo)
# with debootstrap + podman import. The image tag is a hash of this recipe, so the
# image is rebuilt only when the recipe changes. Also builds the lab's local
# "vendor mirror" pool: the .deb closure of packages the roles install that the image
# does not carry, downloaded here once, served later by the lab repo container.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cache="${AIFABRIC_LAB_CACHE:-$root/.cache/lab}"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$root/lab/containers.conf}"

# what goes into the image: the recipe
IMAGE_PACKAGES="systemd,systemd-sysv,dbus,openssh-server,python3,python3-apt,sudo,iproute2,iputils-ping,ca-certificates,apt-transport-https"
# installed after debootstrap (debootstrap --include cannot configure python3-bcrypt):
# python3-paramiko, for the lab switches that run the NX-OS simulator (simulators/nxos);
# busybox (its udhcpc) and python3-yaml, for the bare nodes' network-boot simulator
# (simulators/netboot)
# libnfs-utils (nfs-cp, nfs-ls), the user-space NFS client the storage verify makes its
# real round trip with; kmod (modinfo, depmod), which the Lustre client module test double
# registers with; etcd-server and etcd-client (etcd, etcdctl): the etcd that the kubelet double
# runs from kubeadm's static Pod manifest on a control plane (the image's binary stands in for
# the registry.k8s.io/etcd image; its own etcd.service is masked below)
IMAGE_EXTRA_PACKAGES="python3-paramiko busybox python3-yaml libnfs-utils kmod etcd-server etcd-client"
# the storage appliance image adds NFS-Ganesha (simulators/nfs); not in the sim host image,
# whose nfs-common is the one the nfs_client role installs (ganesha depends on nfs-common)
APPLIANCE_PACKAGES="nfs-ganesha nfs-ganesha-mem"
# packages the roles install from the site mirror (the lab repo serves their closure)
MIRROR_PACKAGES="$(tr '\n' ' ' < "$here/mirror-packages.txt")"
mkdir -p "$cache"
# lab-only SSH key, baked into the image's authorized_keys
mkdir -p "$cache/ssh"
if [ ! -s "$cache/ssh/id_ed25519" ]; then
  ssh-keygen -q -t ed25519 -N '' -C aifabric-lab-only -f "$cache/ssh/id_ed25519"
fi

# the tag names the recipe and this checkout's key: podman's image store is shared by
# every checkout on the machine, each with its own key
recipe_hash="$( (cat "$0" "$here/mirror-packages.txt" "$here"/rootfs.sh "$cache/ssh/id_ed25519.pub") | sha256sum | cut -c1-12)"
tag="localhost/aifabric-sim:${recipe_hash}"
appliance_tag="localhost/aifabric-sim-appliance:${recipe_hash}"

if podman image exists "$tag" && podman image exists "$appliance_tag" && [ -s "$cache/mirror/.complete-$recipe_hash" ]; then
  echo "image $tag cached"
  echo "$tag" > "$cache/image"
  echo "$appliance_tag" > "$cache/appliance-image"
  exit 0
fi

work="$(mktemp -d "$cache/rootfs.XXXXXX")"
trap 'umount "$work/rootfs/proc" 2>/dev/null || true; rm -rf "$work"' EXIT
# the debootstrap tree is cached on its own (it is the slow part, ~40-60 s)
boot_hash="$(echo "$IMAGE_PACKAGES" | sha256sum | cut -c1-12)"
boot_tar="$cache/debootstrap-$boot_hash.tar"
mkdir -p "$work/rootfs"
if [ ! -s "$boot_tar" ]; then
  echo "debootstrap (bookworm, minbase)"
  debootstrap --variant=minbase --include="$IMAGE_PACKAGES" bookworm "$work/rootfs" \
    http://deb.debian.org/debian > "$cache/debootstrap.log" 2>&1 || { tail -20 "$cache/debootstrap.log"; exit 1; }
  tar -C "$work/rootfs" -cf "$boot_tar.tmp" . && mv "$boot_tar.tmp" "$boot_tar"
else
  tar -C "$work/rootfs" -xf "$boot_tar"
fi

# the mirror pool: whatever MIRROR_PACKAGES need that the image lacks
mount --bind /proc "$work/rootfs/proc"
cp /etc/resolv.conf "$work/rootfs/etc/resolv.conf"
rm -rf "$cache/mirror" && mkdir -p "$cache/mirror/pool"
if ! chroot "$work/rootfs" /bin/sh -c "apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends $IMAGE_EXTRA_PACKAGES && apt-get clean && mkdir -p /tmp/mirror/partial && apt-get -qq -o Dir::Cache::archives=/tmp/mirror --download-only install -y $MIRROR_PACKAGES" \
   > "$cache/mirror.log" 2>&1; then
  umount "$work/rootfs/proc"; tail -20 "$cache/mirror.log"; exit 1
fi
umount "$work/rootfs/proc"
cp "$work"/rootfs/tmp/mirror/*.deb "$cache/mirror/pool/"

PUBKEY="$(cat "$cache/ssh/id_ed25519.pub")" bash "$here/rootfs.sh" "$work/rootfs"

tar -C "$work/rootfs" -c . | podman import \
  --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3' \
  --change 'ENV container=podman' - "$tag" >/dev/null
# the storage appliances: the same tree plus NFS-Ganesha (Debian's sources only while
# installing it)
mount --bind /proc "$work/rootfs/proc"
cp /etc/resolv.conf "$work/rootfs/etc/resolv.conf"
echo 'deb http://deb.debian.org/debian bookworm main' > "$work/rootfs/etc/apt/sources.list.d/build.list"
if ! chroot "$work/rootfs" /bin/sh -c "apt-get -qq update && DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends $APPLIANCE_PACKAGES && apt-get clean" \
   > "$cache/appliance.log" 2>&1; then
  umount "$work/rootfs/proc"; tail -20 "$cache/appliance.log"; exit 1
fi
umount "$work/rootfs/proc"
rm -rf "$work/rootfs/etc/apt/sources.list.d/build.list" "$work"/rootfs/var/lib/apt/lists/*
echo "# lab: no DNS" > "$work/rootfs/etc/resolv.conf"
tar -C "$work/rootfs" -c . | podman import --change 'CMD ["/bin/sh"]' - "$appliance_tag" >/dev/null
date +%s > "$cache/mirror/.complete-$recipe_hash"
echo "$tag" > "$cache/image"
echo "$appliance_tag" > "$cache/appliance-image"
echo "built $tag and $appliance_tag"
