#!/usr/bin/env bash
# Starts, stops or reports a persistent local Azurite (from node_modules, loopback only, data under --location).
# The demo and `pipeline submit/status/runs/dataset` use it; tests start their own in-memory instances instead.
# When AzureWebJobsStorage names a real storage account, Azurite is not needed and `start` does nothing.
#
# Usage: infra/azurite.sh start|stop|restart|status [--location DIR] [--ports BLOB,QUEUE,TABLE] [--in-memory]
#   defaults: --location .pipeline/azurite, --ports 10000,10001,10002 (what UseDevelopmentStorage=true means)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CMD="${1:-status}"; shift || true
LOCATION="$ROOT/.pipeline/azurite"; PORTS="10000,10001,10002"; IN_MEMORY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --location) LOCATION="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --ports) PORTS="$2"; shift 2 ;;
    --in-memory) IN_MEMORY=1; shift ;;
    *) echo "azurite.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
IFS=, read -r BLOB QUEUE TABLE <<<"$PORTS"
for p in "$BLOB" "$QUEUE" "$TABLE"; do
  [[ "$p" =~ ^[0-9]+$ ]] || { echo "azurite.sh: --ports wants three numbers BLOB,QUEUE,TABLE (got '$PORTS')" >&2; exit 2; }
done
RUN_DIR="$ROOT/.pipeline/azurite-run"; mkdir -p "$RUN_DIR"
PIDFILE="$RUN_DIR/azurite-$BLOB.pid"; LOG="$RUN_DIR/azurite-$BLOB.log"
KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CONN="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$KEY;BlobEndpoint=http://127.0.0.1:$BLOB/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$QUEUE/devstoreaccount1;TableEndpoint=http://127.0.0.1:$TABLE/devstoreaccount1;"

accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
running_pid() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && cat "$PIDFILE"; }
real_account() {
  local cs="${AzureWebJobsStorage:-}"
  [ -n "$cs" ] && [[ "$cs" != *UseDevelopmentStorage=true* ]] && [[ "$cs" != *devstoreaccount1* ]]
}

start() {
  if real_account; then echo "AzureWebJobsStorage names a storage account; Azurite is not started."; return 0; fi
  if pid=$(running_pid); then echo "Azurite already running (pid $pid) on 127.0.0.1:$BLOB/$QUEUE/$TABLE"; return 0; fi
  if accepts "$BLOB" || accepts "$QUEUE" || accepts "$TABLE"; then
    echo "azurite.sh: a port of $PORTS is already in use by another process (another Azurite?); pick others with --ports" >&2; return 1
  fi
  local script="$ROOT/node_modules/azurite/dist/src/azurite.js"
  [ -f "$script" ] || { echo "azurite.sh: $script missing; run infra/setup.sh" >&2; return 1; }
  local persist=(--location "$LOCATION")
  if [ $IN_MEMORY -eq 1 ]; then persist=(--inMemoryPersistence); else mkdir -p "$LOCATION"; fi
  # setsid: the server outlives this shell; --disableTelemetry: without it Azurite takes ~12 s to exit.
  setsid node "$script" --silent --disableTelemetry --skipApiVersionCheck --loose \
    --blobHost 127.0.0.1 --blobPort "$BLOB" --queueHost 127.0.0.1 --queuePort "$QUEUE" \
    --tableHost 127.0.0.1 --tablePort "$TABLE" "${persist[@]}" >"$LOG" 2>&1 < /dev/null &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 300); do
    if accepts "$BLOB" && accepts "$QUEUE" && accepts "$TABLE"; then
      echo "Azurite running (pid $(cat "$PIDFILE")) on 127.0.0.1:$BLOB/$QUEUE/$TABLE, data: $([ $IN_MEMORY -eq 1 ] && echo in-memory || echo "$LOCATION")"
      [ "$PORTS" = "10000,10001,10002" ] || echo "AzureWebJobsStorage='$CONN'"
      return 0
    fi
    kill -0 "$(cat "$PIDFILE")" 2>/dev/null || { echo "azurite.sh: Azurite exited while starting:" >&2; cat "$LOG" >&2; rm -f "$PIDFILE"; return 1; }
    sleep 0.1
  done
  echo "azurite.sh: Azurite did not open its ports within 30 s; log: $LOG" >&2; stop; return 1
}

stop() {
  local pid
  if ! pid=$(running_pid); then echo "Azurite not running (no live pid in $PIDFILE)"; rm -f "$PIDFILE"; return 0; fi
  kill -TERM "$pid"   # Azurite closes its servers and saves its databases on SIGTERM
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then echo "Azurite (pid $pid) ignored SIGTERM for 10 s; killing it" >&2; kill -KILL "$pid"; fi
  rm -f "$PIDFILE"
  echo "Azurite stopped (pid $pid)"
}

status() {
  if pid=$(running_pid); then echo "Azurite running (pid $pid) on 127.0.0.1:$BLOB/$QUEUE/$TABLE"; echo "connection: $CONN"; return 0; fi
  if accepts "$BLOB"; then echo "Something else (not started by this script) listens on 127.0.0.1:$BLOB"; return 0; fi
  echo "Azurite not running on 127.0.0.1:$BLOB"; return 3
}

case "$CMD" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  *) echo "Usage: infra/azurite.sh start|stop|restart|status [--location DIR] [--ports B,Q,T] [--in-memory]" >&2; exit 2 ;;
esac
