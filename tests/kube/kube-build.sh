#!/bin/bash
# Build a real kube-apiserver and kube-controller-manager (Kubernetes 1.20.2) from Debian 12's own
# `kubernetes` source package, which carries the full upstream tree with vendor/, using Debian's Go.
# Usage: kube-build.sh [WORKDIR]   (default $EDGECR_KUBE_CACHE or /var/cache/edgecr-kube; binaries
# land in WORKDIR/bin). A stable WORKDIR lets CI reruns reuse a finished build.
# Needs: golang-go, make, dpkg-dev and apt access to a Debian 12 archive. The first run took 9 minutes
# on a 2-core machine, downloads included; it returns at once when WORKDIR/bin contains both programs.
set -euo pipefail
W=${1:-${EDGECR_KUBE_CACHE:-/var/cache/edgecr-kube}}
if [ -x "$W/bin/kube-apiserver" ] && [ -x "$W/bin/kube-controller-manager" ]; then
  echo "kube-build: reusing $W/bin"; exit 0
fi
mkdir -p "$W"/{apt/lists/partial,apt/cache/archives/partial,src,debs,bin,gocache,shim}
cd "$W"

# A private deb-src list for the archive this machine already uses: nothing in /etc changes.
uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$uri" ] || uri=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if($i ~ /^[a-z]+:\/\//){print $i; exit}}' /etc/apt/sources.list)
[ -n "$uri" ] || { echo "kube-build: no Debian archive URI found in the apt sources" >&2; exit 1; }
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bookworm main" > apt/src.list
apt_private=(-o "Dir::Etc::SourceList=$W/apt/src.list" -o Dir::Etc::SourceParts=/nonexistent
  -o "Dir::State::Lists=$W/apt/lists" -o "Dir::Cache=$W/apt/cache" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=)
apt-get "${apt_private[@]}" update -qq
(cd src && apt-get "${apt_private[@]}" source --download-only -qq kubernetes)
(cd debs && apt-get download -qq golang-github-modern-go-reflect2-dev && dpkg-deb -x golang-github-modern-go-reflect2-dev_*.deb x)

# Kubernetes 1.20 builds in GOPATH mode.
rm -rf src/kubernetes-* gopath
tar -C src -xzf src/kubernetes_*.orig.tar.gz
K=$(ls -d "$W"/src/kubernetes-*/ | head -n1); K=${K%/}
version=v${K##*-}
mkdir -p gopath/src/k8s.io && ln -s "$K" gopath/src/k8s.io/kubernetes

# The vendored reflect2 1.0.1 crashes under Go 1.18+ when decoding maps (a Secret's data): use Debian's 1.0.2.
rm -rf "$K/vendor/github.com/modern-go/reflect2"
cp -a debs/x/usr/share/gocode/src/github.com/modern-go/reflect2 "$K/vendor/github.com/modern-go/reflect2"
find "$K/vendor/github.com/modern-go/reflect2" -name '*_test.go' -delete

# pkg/generated/openapi is not in the tarball; its generator calls `rsync -pc SRC DEST`, which cp does here.
printf '#!/bin/sh\ncp -p "$2" "$3"/\n' > shim/rsync && chmod +x shim/rsync
export HOME=$W GOCACHE=$W/gocache GOPROXY=off GOFLAGS= CGO_ENABLED=0 PATH=$W/shim:$PATH
make -C "$K" gen_openapi >/dev/null

export GOPATH=$W/gopath GO111MODULE=off
ldflags="-s -w"
for p in k8s.io/kubernetes/vendor/k8s.io/component-base/version k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=20 -X $p.gitTreeState=clean"
done
cd "$W/gopath/src/k8s.io/kubernetes"
go build -ldflags "$ldflags" -o "$W/bin/" ./cmd/kube-apiserver ./cmd/kube-controller-manager
echo "kube-build: $version built in $W/bin"
