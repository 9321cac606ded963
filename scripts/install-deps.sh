#!/usr/bin/env bash
# Installs every Debian package pyfresh needs to build, test and benchmark.
# Idempotent: packages already present are skipped by apt-get itself.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  python3 python3-dev python3-pytest python3-flask python3-django python3-bottle
  libgtest-dev libgmock-dev libbenchmark-dev
  uwsgi-core uwsgi-plugin-python3 uwsgi-dev uwsgi-src
  apache2 apache2-dev libapache2-mod-wsgi-py3
  clang libclang-rt-dev
  wrk curl procps gnuplot-nox git
  chromium chromium-driver python3-selenium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The apache2 package enables and starts the system service; pyfresh's tests
# run their own httpd on high ports, so keep the system one from starting.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${missing[*]}"
