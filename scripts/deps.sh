#!/usr/bin/env bash
# Install the Debian packages acctdb needs, only those missing.
#
#   scripts/deps.sh            build + test dependencies
#   scripts/deps.sh fuzz       ... plus clang and libFuzzer
#   scripts/deps.sh bench      ... plus the peers the benchmarks compare with
#
# Checks `dpkg -s` first; runs `apt-get update` at most once and
# `apt-get install -y` non-interactively only for what is missing.
set -euo pipefail

pkgs=(make gcc pkg-config libzstd-dev liblz4-dev libssl-dev libcmocka-dev
      libcjson-dev libmicrohttpd-dev libjson-c-dev libcurl4-openssl-dev curl
      b3sum zstd lz4 tar python3 clang-format ca-certificates)
for extra in "$@"; do
    case "$extra" in
        fuzz)  pkgs+=(clang libclang-rt-14-dev) ;;
        bench) pkgs+=(liblmdb-dev librocksdb-dev libsqlite3-dev wrk) ;;
        *) echo "deps.sh: unknown group '$extra' (fuzz, bench)" >&2; exit 2 ;;
    esac
done

missing=()
for p in "${pkgs[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
