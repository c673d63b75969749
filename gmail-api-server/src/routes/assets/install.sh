#!/usr/bin/env bash
# gmail-servers one-line setup: asks this server for an API key for this device, lets you
# approve it in your browser (sign in with Google, compare the code), then connects Claude Code.
#   curl -sSL __SITE__/install.sh | bash
#   ... | bash -s -- --desktop     also write Claude Desktop's config (when it has none yet)
# GMAIL_SERVERS_URL overrides the server; GMAIL_SERVERS_NO_BROWSER=1 only prints the link.
set -euo pipefail

site="${GMAIL_SERVERS_URL:-__SITE__}"
mcp="__MCP__"
desktop=0
for arg in "$@"; do
  case "$arg" in
    --desktop) desktop=1 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
number() { sed -n "s/.*\"$1\":\([0-9][0-9]*\).*/\1/p"; }

name="$(hostname 2>/dev/null || echo device)"
start=$(curl -fsS -X POST "$site/device/code" -H 'content-type: application/json' \
  -d "{\"name\":\"setup on ${name//\"/}\"}") || { echo "cannot reach $site" >&2; exit 1; }
device_code=$(field deviceCode <<<"$start")
user_code=$(field userCode <<<"$start")
link=$(field verificationUriComplete <<<"$start")
interval=$(number interval <<<"$start")
expires=$(number expiresIn <<<"$start")

echo "Approve this device in your browser: $link"
echo "Check that the page shows the code: $user_code"
if [ "${GMAIL_SERVERS_NO_BROWSER:-0}" != 1 ]; then
  if command -v xdg-open >/dev/null; then xdg-open "$link" >/dev/null 2>&1 || true
  elif command -v open >/dev/null; then open "$link" >/dev/null 2>&1 || true
  fi
fi

deadline=$(( $(date +%s) + ${expires:-600} ))
while :; do
  sleep "${interval:-2}"
  # The code goes on stdin, not in curl's arguments, which every local user can read.
  answer=$(curl -sS -X POST "$site/device/token" -H 'content-type: application/json' \
    --data-binary @- <<<"{\"deviceCode\":\"$device_code\"}")
  key=$(field key <<<"$answer")
  [ -n "$key" ] && break
  case "$(field error <<<"$answer")" in
    authorization_pending) ;;
    access_denied) echo "The request was denied in the browser." >&2; exit 1 ;;
    *) echo "The request expired or failed: $answer" >&2; exit 1 ;;
  esac
  if [ "$(date +%s)" -ge "$deadline" ]; then echo "Timed out waiting for approval." >&2; exit 1; fi
done

echo "Approved: this device has its own API key."
if command -v claude >/dev/null; then
  claude mcp add --transport sse gmail "$mcp/sse" --header "Authorization: Bearer $key"
  echo "Claude Code is connected (server name: gmail)."
else
  echo "Claude Code is not on PATH; connect it later with:"
  echo "  claude mcp add --transport sse gmail $mcp/sse --header \"Authorization: Bearer $key\""
fi

if [ "$desktop" = 1 ]; then
  case "$(uname -s)" in
    Darwin) config="$HOME/Library/Application Support/Claude/claude_desktop_config.json" ;;
    *) config="${XDG_CONFIG_HOME:-$HOME/.config}/Claude/claude_desktop_config.json" ;;
  esac
  # The key goes in the environment, not on mcp-remote's command line, where any local user
  # could read it for as long as the proxy runs.
  entry="{\"mcpServers\":{\"gmail\":{\"command\":\"npx\",\"args\":[\"-y\",\"mcp-remote\",\"$mcp/sse\",\"--header\",\"Authorization:\${GMAIL_MCP_AUTH}\"],\"env\":{\"GMAIL_MCP_AUTH\":\"Bearer $key\"}}}}"
  if [ -e "$config" ]; then
    echo "Claude Desktop already has $config; add this server to its mcpServers:"
    echo "$entry"
  else
    mkdir -p "$(dirname "$config")"
    (umask 077; printf '%s\n' "$entry" >"$config")
    echo "Wrote Claude Desktop's config: $config"
  fi
fi
