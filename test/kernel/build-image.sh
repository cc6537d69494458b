#!/usr/bin/env bash
# Builds the project's container image on this host with no registry: a Debian base made
# here with mmdebstrap (Debian's packages, plus this host's node and npm, since bookworm's
# nodejs is 18 and we need 20), then the Dockerfile through buildah in chroot isolation,
# with npm working offline from a cache filled here. Prints podman's image store (graph root)
# and the image's name: the VM's container scenario reads that store read-only over 9p as an
# additional image store, since `podman load` of the ~350 MB image takes minutes under TCG.
#
# Everything is cached, keyed by its inputs: the bases (the slow part: minutes of mmdebstrap)
# by the package list and the node binary in $KT_BASE_CACHE (default
# /var/cache/keepalived-ts-test, so a fresh clone on the same machine reuses them), the npm
# cache by package-lock.json (in .cache/container/) and the image, in podman's store, by the
# Dockerfile, the sources and the bases. A second run with nothing changed takes seconds.
set -euo pipefail
shopt -s inherit_errexit   # a failure inside $(make_base ...) stops the build too
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE="$ROOT/.cache/container"
BASE_CACHE=${KT_BASE_CACHE:-/var/cache/keepalived-ts-test}
mkdir -p "$CACHE" "$BASE_CACHE"
log() { echo "build-image: $*" >&2; }
sum() { sha256sum | cut -c1-16; }

NODE_BIN=$(readlink -f "$(command -v node)")
NPM_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
# the build base has what node-gyp needs; the run base only what node needs
BUILD_PKGS=libstdc++6,ca-certificates,python3,make,g++
RUN_PKGS=libstdc++6,ca-certificates
base_key() { { echo "$1"; sha256sum "$NODE_BIN"; } | sum; }

make_base() { # NAME PKGS WITH_NPM
  local name=$1 pkgs=$2 npm=$3 key tar
  key=$(base_key "$pkgs $npm")
  tar="$BASE_CACHE/$name-$key.tar"
  if ! podman image exists "localhost/$name:$key"; then
    if [ ! -s "$tar" ]; then
      log "mmdebstrap $name ($pkgs)"
      local hooks=(--customize-hook="copy-in $NODE_BIN /usr/bin" --customize-hook='copy-in /usr/include/node /usr/include')
      [ "$npm" = npm ] && hooks+=(--customize-hook='mkdir -p "$1/usr/lib/node_modules"' \
        --customize-hook="copy-in $NPM_DIR /usr/lib/node_modules" \
        --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/bin/npm"')
      # mmdebstrap picks the output format from the name: keep .tar last
      mmdebstrap --quiet --variant=minbase --include="$pkgs" "${hooks[@]}" bookworm "${tar%.tar}.part.tar" >&2
      mv "${tar%.tar}.part.tar" "$tar"
    fi
    podman import --quiet "$tar" "localhost/$name:$key" >/dev/null
  fi
  echo "localhost/$name:$key"
}

BUILD_BASE=$(make_base kt-build-base "$BUILD_PKGS" npm)
RUN_BASE=$(make_base kt-run-base "$RUN_PKGS" none)

LOCK=$(sum < "$ROOT/package-lock.json")
NPM_CACHE="$CACHE/npm-$LOCK"
if [ ! -d "$NPM_CACHE" ]; then
  log "filling the npm cache for package-lock.json $LOCK"
  tmp=$(mktemp -d)
  cp "$ROOT/package.json" "$ROOT/package-lock.json" "$ROOT/.npmrc" "$tmp/"
  mkdir -p "$tmp/tools" && cp -r "$ROOT/tools/node-headers" "$tmp/tools/"
  (cd "$tmp" && npm ci --ignore-scripts --no-audit --no-fund --cache "$NPM_CACHE.part" >/dev/null)
  rm -rf "$tmp"
  mv "$NPM_CACHE.part" "$NPM_CACHE"
fi

SRC_KEY=$(cd "$ROOT" && { echo "$BUILD_BASE $RUN_BASE"; tar c --sort=name --mtime=@0 --owner=0 --group=0 \
  Dockerfile .dockerignore .npmrc package.json package-lock.json tsconfig.json tsconfig.build.json binding.gyp \
  tools native grammar src bin man packaging 2>/dev/null; } | sum)
IMAGE="localhost/keepalived-ts:$SRC_KEY"
if ! podman image exists "$IMAGE"; then
  log "buildah bud $IMAGE"
  work=$(mktemp -d)
  # npm --cache DIR keeps its content in DIR/_cacache
  cp -a "$NPM_CACHE/_cacache" "$work/_cacache"
  buildah bud --quiet --isolation chroot --layers=false -v "$work/_cacache:/root/.npm/_cacache" \
    --build-arg npm_config_offline=true --build-arg "BUILD_BASE=$BUILD_BASE" --build-arg "RUN_BASE=$RUN_BASE" \
    -t "$IMAGE" "$ROOT" >&2
  rm -rf "$work"
fi
echo "$(podman info --format '{{.Store.GraphRoot}}') $IMAGE"
