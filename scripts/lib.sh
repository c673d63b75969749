# Shared helpers for the scripts in this folder. Source it; do not run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
SUPERVISOR_CONF="$ROOT/supervisor/supervisord.conf"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The project's Python tools (supervisor, test clients) live in a local virtual environment,
# never system-wide.
ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating the Python virtual environment in .venv"
    python3 -m venv "$VENV" || die "python3 -m venv failed (install python3-venv)"
  fi
}

# pip install only what is missing, so a second run is quick and offline-safe.
ensure_pip() {
  ensure_venv
  local missing=()
  local spec
  for spec in "$@"; do
    "$VENV/bin/python" -m pip show -q "${spec%%[<>=]*}" >/dev/null 2>&1 || missing+=("$spec")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} into .venv"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${missing[@]}"
  fi
}

# supervisor, plus supervisor/ on the venv's path so supervisord finds the project's RPC
# interface (gmail_supervisor.py: bare program names such as `restart gmail-api-server`).
ensure_supervisor() {
  ensure_pip "supervisor>=4.2"
  local site
  site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$ROOT/supervisor" >"$site/gmail-servers-supervisor.pth"
}

ctl() { "$VENV/bin/supervisorctl" -c "$SUPERVISOR_CONF" "$@"; }

supervisord_running() { ctl pid >/dev/null 2>&1; }

# wait_http URL SECONDS: until URL answers 2xx.
wait_http() {
  local url=$1 secs=${2:-60} i
  for ((i = 0; i < secs * 5; i++)); do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
