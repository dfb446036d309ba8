#!/bin/bash
# Start etcd, kube-apiserver and kube-controller-manager (namespace and service-account controllers)
# on 127.0.0.1 and write RUNDIR/kubeconfig (admin bearer token, cluster CA embedded) and
# RUNDIR/kubeconfig-cert (admin client certificate).
# Usage: kube-up.sh RUNDIR [BINDIR] [API_PORT] [ETCD_PORT]
#   BINDIR defaults to $EDGECR_KUBE_CACHE/bin or /var/cache/edgecr-kube/bin (see kube-build.sh),
#   API_PORT to 21643, ETCD_PORT to 21379; etcd's peer port is ETCD_PORT + 1.
# A component whose PID file names a live process is left running, so after
# `kube-down.sh RUNDIR apiserver` this starts only the API server again, with the same data.
# Stop with kube-down.sh RUNDIR. Ready in about 4 seconds. Needs etcd-server, kubectl and openssl.
set -euo pipefail
R=$1; BINDIR=${2:-${EDGECR_KUBE_CACHE:-/var/cache/edgecr-kube}/bin}; PORT=${3:-21643}; EPORT=${4:-21379}
mkdir -p "$R/pki" "$R/etcd-data"
cd "$R"
export KUBECACHEDIR=$R/kube-cache

running() { [ -f "$1.pid" ] && kill -0 "$(cat "$1.pid")" 2>/dev/null; }

[ -f pki/apiserver.crt ] || openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=kube-apiserver" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout pki/apiserver.key -out pki/apiserver.crt 2>/dev/null
[ -f pki/sa.key ] || { openssl genrsa -out pki/sa.key 2048 2>/dev/null; openssl rsa -in pki/sa.key -pubout -out pki/sa.pub 2>/dev/null; }
if [ ! -f pki/client-ca.crt ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=rig client CA" \
    -keyout pki/client-ca.key -out pki/client-ca.crt 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=admin-cert" \
    -keyout pki/admin.key -out pki/admin.csr 2>/dev/null
  openssl x509 -req -in pki/admin.csr -CA pki/client-ca.crt -CAkey pki/client-ca.key -CAcreateserial \
    -days 3650 -out pki/admin.crt 2>/dev/null
fi
[ -f admin.token ] || openssl rand -hex 24 > admin.token
[ -f kcm.token ] || openssl rand -hex 24 > kcm.token
printf '%s,admin,admin-uid,"system:masters"\n%s,system:kube-controller-manager,kcm-uid,"system:masters"\n' \
  "$(cat admin.token)" "$(cat kcm.token)" > tokens.csv

write_kubeconfig() {  # FILE USER TOKEN
  KUBECONFIG=$1 kubectl config set-cluster rig --server="https://127.0.0.1:$PORT" \
    --certificate-authority="$R/pki/apiserver.crt" --embed-certs=true >/dev/null
  KUBECONFIG=$1 kubectl config set-credentials "$2" --token="$3" >/dev/null
  KUBECONFIG=$1 kubectl config set-context rig --cluster=rig --user="$2" >/dev/null
  KUBECONFIG=$1 kubectl config use-context rig >/dev/null
}
if [ ! -f kubeconfig-cert ]; then
  write_kubeconfig "$R/kubeconfig" admin "$(cat admin.token)"
  write_kubeconfig "$R/kcm.kubeconfig" kcm "$(cat kcm.token)"
  cp "$R/kubeconfig" "$R/kubeconfig-cert.tmp"
  KUBECONFIG=$R/kubeconfig-cert.tmp kubectl config set-credentials admin --token= --client-certificate="$R/pki/admin.crt" \
    --client-key="$R/pki/admin.key" --embed-certs=true >/dev/null
  KUBECONFIG=$R/kubeconfig-cert.tmp kubectl config unset users.admin.token >/dev/null
  mv "$R/kubeconfig-cert.tmp" "$R/kubeconfig-cert"
fi

if ! running etcd; then
  etcd --name rig --data-dir "$R/etcd-data" --listen-client-urls "http://127.0.0.1:$EPORT" \
    --advertise-client-urls "http://127.0.0.1:$EPORT" --listen-peer-urls "http://127.0.0.1:$((EPORT + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((EPORT + 1))" \
    --initial-cluster "rig=http://127.0.0.1:$((EPORT + 1))" --listen-metrics-urls '' >> etcd.log 2>&1 &
  echo $! > etcd.pid
fi
if ! running apiserver; then
  "$BINDIR/kube-apiserver" --etcd-servers="http://127.0.0.1:$EPORT" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$PORT" --insecure-port=0 \
    --tls-cert-file="$R/pki/apiserver.crt" --tls-private-key-file="$R/pki/apiserver.key" \
    --token-auth-file="$R/tokens.csv" --client-ca-file="$R/pki/client-ca.crt" --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --api-audiences=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$R/pki/sa.pub" --service-account-signing-key-file="$R/pki/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 --endpoint-reconciler-type=none --profiling=false --v=1 >> apiserver.log 2>&1 &
  echo $! > apiserver.pid
fi
until KUBECONFIG=$R/kubeconfig kubectl get --raw /readyz >/dev/null 2>&1; do
  running apiserver || { echo "kube-up: kube-apiserver exited" >&2; tail -n 20 apiserver.log >&2; exit 1; }
  sleep 0.2
done
# The namespace controller finishes namespace deletion; without it a deleted namespace stays Terminating.
if ! running kcm; then
  "$BINDIR/kube-controller-manager" --kubeconfig="$R/kcm.kubeconfig" --controllers=namespace,serviceaccount \
    --leader-elect=false --port=0 --secure-port=0 --v=1 >> kcm.log 2>&1 &
  echo $! > kcm.pid
fi
echo "kube-up: ready; KUBECONFIG=$R/kubeconfig"
