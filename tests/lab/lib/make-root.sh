#!/usr/bin/env bash
# make-root.sh - a Debian root file system with Ganeti for lab clusters of another Ganeti version.
#
# usage: make-root.sh ROOT SUITE LOG
#   ROOT   where the root lives (kept outside any LAB_DIR: `lab.sh down` leaves it, every lab reuses it)
#   SUITE  Debian suite, e.g. trixie (Ganeti 3.1)
#   LOG    file for debootstrap's and apt's output
#
# Creates ROOT when it is missing or unfinished: `debootstrap --variant=minbase SUITE` from the mirror the
# host's own apt configuration names, then the lab's packages with apt inside it. Daemons are blocked by a
# policy-rc.d inside the root; the host's packages are not touched (debootstrap itself is installed on the
# host when missing). A finished root holds .lab-root-ready (its package versions); a lock serialises labs
# that bring up at the same time. Prints the root's Ganeti version.
set -euo pipefail

root=${1:?usage: make-root.sh ROOT SUITE LOG}
suite=${2:?usage: make-root.sh ROOT SUITE LOG}
log=${3:?usage: make-root.sh ROOT SUITE LOG}
packages=(ganeti ganeti-os-noop socat openssl iproute2 curl procps util-linux openssh-server openssh-client)
stamp=$root/.lab-root-ready

die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }

# The first http(s) mirror of the host's Debian archive (deb822 .sources or one-line sources.list).
host_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'tolower($1) == "uris:" && $2 ~ /^https?:/ && $2 !~ /security/ { print $2; exit }' "$f"
  done | head -1
  if [ -f /etc/apt/sources.list ]; then
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { if ($i !~ /security/) print $i; break } }' \
      /etc/apt/sources.list
  fi
}

mkdir -p "$(dirname "$root")"
exec 9> "$root.lock"
flock 9

if [ ! -f "$stamp" ]; then
  mirror=${LAB_ROOT_MIRROR:-$(host_mirror | sed -n 1p)}
  [ -n "$mirror" ] || die "no Debian mirror in the host's apt sources; set LAB_ROOT_MIRROR"
  if ! command -v debootstrap > /dev/null 2>&1; then
    echo "[lab] installing debootstrap on the host" >&2
    # (apt's package lists may be missing or old on a fresh machine: update once when the install fails)
    { DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends debootstrap ||
      { DEBIAN_FRONTEND=noninteractive timeout 900 apt-get update -q &&
        DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends debootstrap; }
    } >> "$log" 2>&1 || { tail -20 "$log" >&2; die "could not install debootstrap (see $log)"; }
  fi
  # An unfinished root of an earlier attempt is started again from nothing.
  rm -rf "$root"
  echo "[lab] debootstrap $suite into $root (mirror $mirror)" >&2
  timeout 1800 debootstrap --variant=minbase "$suite" "$root" "$mirror" >> "$log" 2>&1 ||
    { tail -20 "$log" >&2; die "debootstrap failed (see $log)"; }
  printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  echo "[lab] installing in $root: ${packages[*]}" >&2
  # a private mount namespace gives the package scripts proc and dev; the host's mounts stay as they are
  # shellcheck disable=SC2016  # expanded by the inner sh
  unshare --mount --propagation private sh -c '
    root=$1; shift
    mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" || exit 1
    chroot "$root" env DEBIAN_FRONTEND=noninteractive timeout 900 apt-get update -q &&
    chroot "$root" env DEBIAN_FRONTEND=noninteractive timeout 1800 apt-get install -y -q --no-install-recommends "$@" &&
    chroot "$root" apt-get clean
  ' sh "$root" "${packages[@]}" >> "$log" 2>&1 ||
    { tail -20 "$log" >&2; die "package install in $root failed (see $log)"; }
  chroot "$root" dpkg-query -W "${packages[@]}" > "$stamp.tmp"
  mv "$stamp.tmp" "$stamp"
fi
# what lab.sh needs inside a root: its mount points (empty directories) and plain files to bind over
mkdir -p "$root/srv/ganeti" "$root/var/lib/ganeti" "$root/var/log/ganeti" "$root/etc/ganeti" \
         "$root/root/.ssh" "$root/.lab-oldroot"
chmod 700 "$root/root/.ssh"
for f in hosts hostname resolv.conf; do
  if [ -L "$root/etc/$f" ] || [ ! -f "$root/etc/$f" ]; then rm -f "$root/etc/$f"; : > "$root/etc/$f"; fi
done
sed -n 's/^ganeti\t//p' "$stamp"
