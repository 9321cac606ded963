#!/usr/bin/env bash
# Runs the README's test command (scripts/run-tests.sh) in a clean Debian 13
# (trixie) chroot made from Debian's packages, then builds the .deb packages
# there and checks that they install into another clean trixie chroot and
# work (scripts/test-packages.sh). Needs root. About 35 minutes on a machine
# that has never made a trixie chroot (debootstrap is cached afterwards).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/debian-chroot.sh"

dir="$PYFRESH_CHROOT_CACHE/trixie-tests"
trap 'chroot_remove "$dir"' EXIT
chroot_create trixie "$dir"

# The working tree as git sees it (tracked and new files, no build output).
mkdir -p "$dir/src"
(cd "$root" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -C "$dir/src" -xf -

echo "debian13: the README's test command in a clean trixie chroot"
chroot_run "$dir" bash -c 'cd /src && bash scripts/run-tests.sh'
echo "debian13: building the packages"
chroot_run "$dir" bash -c 'cd /src && bash scripts/build-debs.sh /src/build-deb'
bash "$root/scripts/test-packages.sh" --suite trixie --debs "$dir/src/build-deb"
echo "debian13: passed"
