#!/usr/bin/env bash
# Clean Debian chroots for pyfresh's own tests, made from Debian's packages
# with debootstrap (minbase). Sourced by test-debian13.sh and
# test-packages.sh; needs root.
#
#   chroot_create SUITE DIR   a fresh chroot of SUITE (bookworm, trixie) in DIR,
#                             with /proc, /dev, /dev/pts mounted and services
#                             kept from starting; the debootstrap result is
#                             cached in $PYFRESH_CHROOT_CACHE (one download per
#                             suite and machine)
#   chroot_run DIR CMD...     runs CMD in DIR with a clean environment
#   chroot_remove DIR         unmounts and deletes DIR
set -euo pipefail

PYFRESH_CHROOT_CACHE="${PYFRESH_CHROOT_CACHE:-/var/tmp/pyfresh-chroots}"
PYFRESH_DEBIAN_MIRROR="${PYFRESH_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

chroot_install_tools() {
  local missing=()
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if [ "${#missing[@]}" -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

chroot_create() {
  local suite="$1" dir="$2" tarball
  tarball="$PYFRESH_CHROOT_CACHE/$suite-minbase.tar"
  chroot_install_tools
  mkdir -p "$PYFRESH_CHROOT_CACHE"
  chroot_remove "$dir"
  mkdir -p "$dir"
  if [ ! -s "$tarball" ]; then
    echo "chroot: debootstrap $suite (a few minutes; cached in $tarball afterwards)"
    local fresh="$PYFRESH_CHROOT_CACHE/$suite-minbase.tmp"
    rm -rf "$fresh"
    debootstrap --variant=minbase "$suite" "$fresh" "$PYFRESH_DEBIAN_MIRROR" >"$PYFRESH_CHROOT_CACHE/$suite-debootstrap.log" 2>&1 \
      || { tail -20 "$PYFRESH_CHROOT_CACHE/$suite-debootstrap.log" >&2; return 1; }
    tar -C "$fresh" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$fresh"
  fi
  tar -C "$dir" -xf "$tarball"
  # Packages that ship services (apache2) must not start them here.
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
  chmod +x "$dir/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
  mount -t proc proc "$dir/proc"
  mount --rbind /dev "$dir/dev"
  mount --make-rslave "$dir/dev"
}

chroot_run() {
  local dir="$1"
  shift
  chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive CI="${CI:-}" "$@"
}

chroot_remove() {
  local dir="$1"
  [ -e "$dir" ] || return 0
  # Stop anything a test left running in it, then unmount (deepest first).
  local pid root
  for pid in /proc/[0-9]*; do
    root="$(readlink "$pid/root" 2>/dev/null)" || continue
    case "$root" in "$dir"|"$dir"/*) kill -9 "${pid#/proc/}" 2>/dev/null || true ;; esac
  done
  local mount
  for mount in $(awk -v d="$dir" '$2 == d || index($2, d "/") == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$mount" 2>/dev/null || true
  done
  rm -rf --one-file-system "$dir"
}
