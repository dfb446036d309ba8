#!/bin/bash
# Installs, as root, the Debian 12 packages that building edgecr and running all
# of its tests need.  Safe to run again.
set -euo pipefail

build=(build-essential pkg-config gettext libmicrohttpd-dev libjansson-dev libsqlite3-dev
	libssl-dev libsystemd-dev libcurl4-openssl-dev libyaml-dev debhelper
	clang libclang-rt-14-dev)
# Real clients and servers that the integration tests and benchmarks drive.
clients=(curl openssl docker.io skopeo podman containerd umoci busybox-static apache2-utils wrk
	docker-registry sqlite3 jq systemd lintian debootstrap
	golang-go etcd-server dpkg-dev locales nginx-light
	chromium chromium-driver python3-selenium gnuplot-nox python3
	python3-prometheus-client)

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: run as root (apt-get needs it): sudo make deps" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${build[@]}" "${clients[@]}" >/dev/null
# The Kubernetes tests need kubectl.  Some images ship one of their own that
# conflicts with Debian's kubernetes-client; keep it when it is there.
if ! command -v kubectl >/dev/null; then
	apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null
fi
# The agent returns API errors in Portuguese only when the system has this
# locale.  Without it, the tests build a copy in their own folders.
if ! locale -a 2>/dev/null | grep -qix 'pt_PT\.utf-\?8'; then
	sed -i 's/^# *\(pt_PT\.UTF-8 UTF-8\)/\1/' /etc/locale.gen
	locale-gen >/dev/null
fi
echo "install-deps.sh: all packages installed"
