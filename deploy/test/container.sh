#!/usr/bin/env bash
# Boot and tear down a throwaway Debian container with a real systemd, reachable over ssh.
#
#   deploy/test/container.sh up   NAME DIR TARBALL SSH_PORT PUBKEY_FILE
#   deploy/test/container.sh down NAME DIR
#
# `up` unpacks TARBALL (from deploy/test/rootfs.sh) into DIR, makes sshd listen on
# 127.0.0.1:SSH_PORT only, authorises PUBKEY_FILE for root and boots DIR with
# `systemd-nspawn --boot` in the background (console output in DIR.console.log, pid in DIR.pid).
# The container shares the host's network, so every port used inside must be free on the host.
# `down` asks the container to power off, kills it if it does not within 30 s and removes DIR.
set -euo pipefail

cmd=${1:?usage: container.sh up|down NAME DIR ...}
name=${2:?NAME}
dir=${3:?DIR}

case "$cmd" in
  up)
    tarball=${4:?TARBALL}
    ssh_port=${5:?SSH_PORT}
    pubkey=${6:?PUBKEY_FILE}
    mkdir -p "$dir"
    tar --numeric-owner -C "$dir" -xf "$tarball"
    cat >"$dir/etc/ssh/sshd_config.d/taowatch-test.conf" <<CONF
# Written by deploy/test/container.sh: the host's own sshd may own port 22.
ListenAddress 127.0.0.1:$ssh_port
PasswordAuthentication no
CONF
    install -d -m 0700 "$dir/root/.ssh"
    install -m 0600 "$pubkey" "$dir/root/.ssh/authorized_keys"
    # nspawn keeps its runtime state here; the host is not running systemd to create it.
    mkdir -p /run/systemd/nspawn
    # --register=no: the host has no system bus (machined); --keep-unit: stay in our own scope.
    setsid systemd-nspawn --quiet --directory="$dir" --machine="$name" --boot \
      --register=no --keep-unit --console=passive \
      </dev/null >"$dir.console.log" 2>&1 &
    echo $! >"$dir.pid"
    ;;
  down)
    if [ -f "$dir.pid" ]; then
      pid=$(cat "$dir.pid")
      # SIGTERM makes systemd-nspawn power the container off cleanly.
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
      done
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$dir.pid"
    fi
    # Only ever remove a directory that looks like one of ours.
    if [ -d "$dir/etc/ssh/sshd_config.d" ] && [ -f "$dir/etc/ssh/sshd_config.d/taowatch-test.conf" ]; then
      rm -rf --one-file-system "$dir"
    fi
    rm -f "$dir.console.log"
    ;;
  *)
    echo "container.sh: unknown command $cmd (use up or down)" >&2
    exit 2
    ;;
esac
