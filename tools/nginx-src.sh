#!/bin/bash
# Fetches Debian's nginx 1.22.1 source package and unpacks the upstream
# (orig) tarball into $1 (default build/nginx-src).  nginx-dev ships
# headers only; the static and sanitizer builds need the full source.
#
# apt runs with private configuration and state under $1.apt: a deb-src
# entry for the Debian archive the host already uses, private lists and
# caches.  The host's apt configuration and state are left untouched.
# Only the upstream tarball is fetched (--tar-only): Debian's patches are
# packaging changes the module does not need.
# The result is cached: a second run with the tree present does nothing.
set -euo pipefail

dest=$(realpath -m "${1:-build/nginx-src}")
ver=1.22.1
host_sources=/etc/apt/sources.list.d/debian.sources

if [ -f "$dest/.complete" ]; then
    exit 0
fi

apt="$dest.apt"
mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache/archives/partial" \
         "$apt/dl"
: > "$apt/sources.list"

# The host's deb822 entries, turned into deb-src ones: same archive,
# suites, components and keyring.
[ -r "$host_sources" ] || { echo "$0: no $host_sources" >&2; exit 1; }
sed -e 's/^Types:.*/Types: deb-src/' "$host_sources" \
    > "$apt/sources.list.d/debian-src.sources"

aptopts=(
    -o "Dir::Etc::SourceList=$apt/sources.list"
    -o "Dir::Etc::SourceParts=$apt/sources.list.d"
    -o "Dir::State::Lists=$apt/lists"
    -o "Dir::Cache=$apt/cache"
    -o "Dir::Cache::archives=$apt/cache/archives"
    -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
    -o "APT::Update::Post-Invoke-Success::="
    -o "Debug::NoLocking=1"
    -o "APT::Sandbox::User=root"
    -q
)

echo "nginx-src: fetching Debian's nginx $ver source (private apt state in $apt)"
apt-get "${aptopts[@]}" update > "$apt/update.log" 2>&1 \
    || { tail -20 "$apt/update.log" >&2; exit 1; }
(cd "$apt/dl" && apt-get "${aptopts[@]}" source --download-only --tar-only nginx \
    > "$apt/source.log" 2>&1) \
    || { tail -20 "$apt/source.log" >&2; exit 1; }

orig="$apt/dl/nginx_$ver.orig.tar.gz"
[ -f "$orig" ] || { echo "$0: $orig missing after apt-get source" >&2; exit 1; }

rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
tar -xzf "$orig" -C "$dest.tmp" --strip-components=1
rm -rf "$dest"
mv "$dest.tmp" "$dest"
touch "$dest/.complete"
echo "nginx-src: unpacked nginx $ver into $dest"
