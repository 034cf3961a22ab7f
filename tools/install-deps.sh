#!/usr/bin/env bash
# Installs the system libraries rmt-convert links (OpenBLAS, HDF5 serial, zlib, pkg-config) when missing.
# Debian/Ubuntu only; runs apt-get as root or through sudo. Does nothing when everything is present.
set -euo pipefail
need=()
pkg-config --exists openblas 2>/dev/null || need+=(libopenblas-dev)
pkg-config --exists hdf5-serial 2>/dev/null || need+=(libhdf5-dev)
pkg-config --exists zlib 2>/dev/null || need+=(zlib1g-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
echo "installing: ${need[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${need[@]}" pkg-config >/dev/null
