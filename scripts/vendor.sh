#!/usr/bin/env bash
# Front-end libraries from the npm registry, pinned by package-lock.json, copied into
# static/vendor/ so the platform serves them itself (government intranets have no CDN).
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.govgrid-$(sha1sum package-lock.json | cut -c1-12)
if [ ! -f "$stamp" ]; then
  command -v npm >/dev/null 2>&1 || { echo "npm is missing (Debian: apt-get install nodejs npm)" >&2; exit 1; }
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
  rm -f node_modules/.govgrid-*
  touch "$stamp"
fi
copy() { mkdir -p "static/vendor/$1"; shift_dir=$1; shift; for f in "$@"; do cp -u "$f" "static/vendor/$shift_dir/"; done; }
copy echarts node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE
copy markercluster node_modules/leaflet.markercluster/dist/leaflet.markercluster.js \
  node_modules/leaflet.markercluster/dist/MarkerCluster.css \
  node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css \
  node_modules/leaflet.markercluster/MIT-LICENCE.txt
