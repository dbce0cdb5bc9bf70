#!/usr/bin/env bash
# Build, or reuse from the cache, a Debian bookworm root filesystem for the Ansible container test
# (tests/test_ansible_deploy.py) and print the path of its tarball.
#
#   deploy/test/rootfs.sh [CACHE_DIR]        default CACHE_DIR: /var/cache/taowatch-test
#
# The tarball is keyed by this script's own content, so changing the package list (or anything
# else here) builds a new one; old tarballs are removed. Needs root, debootstrap and network
# access to a Debian mirror (DEBIAN_MIRROR, default http://deb.debian.org/debian).
set -euo pipefail

cache=${1:-/var/cache/taowatch-test}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# What a freshly provisioned Debian host has before Ansible ever touches it: an init system,
# sshd and a Python for Ansible's modules (python3-apt for the apt module, python3-venv for the
# taowatch virtualenv). Nothing the roles install is in here...
include=systemd,systemd-sysv,dbus,openssh-server,python3,python3-venv,python3-apt,ca-certificates,gnupg
# ...except that the .deb files the roles will install are downloaded into apt's cache, so the
# roles' apt tasks install for real but do not fetch ~40 MB from the mirror on every run.
predownload=(prometheus prometheus-alertmanager prometheus-node-exporter victoria-metrics)

key=$(cat "$0" | sha256sum | cut -c1-16)
tarball="$cache/bookworm-$key.tar"
if [ -s "$tarball" ]; then
  echo "$tarball"
  exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/root"

echo "rootfs: debootstrap bookworm into $root (cached afterwards as $tarball)" >&2
debootstrap --variant=minbase --include="$include" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -30 "$work/debootstrap.log" >&2; exit 1; }

echo "rootfs: pre-downloading ${predownload[*]} into apt's cache" >&2
# debootstrap leaves its own .debs in apt's cache: drop them, keep only what the roles need.
chroot "$root" apt-get clean
chroot "$root" apt-get update -qq >&2
chroot "$root" apt-get install -y -qq --download-only --no-install-recommends "${predownload[@]}" >&2

# apt's daily timers would take the dpkg lock in the middle of a converge.
for unit in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
# Each container gets its hostname from systemd-nspawn --machine.
rm -f "$root/etc/hostname"
: >"$root/etc/machine-id"

rm -f "$cache"/bookworm-*.tar
tar --numeric-owner -C "$root" -cf "$tarball.tmp" .
mv "$tarball.tmp" "$tarball"
echo "$tarball"
