#!/usr/bin/env bash
# The production stack on one machine, without containers: migrations once, static files,
# gunicorn (WEB_WORKERS processes) and QCLUSTERS qcluster processes (each with Q_WORKERS
# workers) against the PostgreSQL and Redis named in the environment or `.env`.
# Stops everything when any part dies (a supervisor then restarts the whole), or on TERM.
#
#   make serve            # or: scripts/serve_production.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-syncfirm.settings.production}"
QCLUSTERS="${QCLUSTERS:-2}"

# Counts of every process on this machine, summed at /metrics (prometheus_client).
export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$(mktemp -d -t syncfirm-metrics.XXXXXX)}"
rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db

"$PY" manage.py check --deploy --fail-level ERROR
"$PY" manage.py migrate --noinput
"$PY" manage.py collectstatic --noinput --verbosity 0

pids=()
stop() {
  trap - TERM INT
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap 'stop; exit 0' TERM INT

"$PY" -m gunicorn syncfirm.wsgi -c gunicorn.conf.py &
pids+=($!)
for _ in $(seq 1 "$QCLUSTERS"); do
  "$PY" manage.py qcluster &
  pids+=($!)
done
echo "syncfirm: web on port ${PORT:-8000} (${WEB_WORKERS:-2} workers), ${QCLUSTERS} qcluster(s); pids ${pids[*]}"

# Any part ending ends the stack: a half-running stack must not look healthy.
set +e
wait -n "${pids[@]}"
status=$?
echo "syncfirm: a process stopped (status $status); stopping the rest" >&2
stop
exit "${status:-1}"
