#!/usr/bin/env bash
# jspurefix as a member's initiator engine, in the foreground until killed.
#
#   run_member.sh HOST PORT SENDER TARGET HEARTBTINT
#
# Installs jspurefix from package-lock.json on first use (npm ci, serialised by a lock on
# this directory), then runs member.js with a fresh file store for this run. Exit 77 (CTest's
# SKIP_RETURN_CODE) when node or npm is missing. Signals: SIGUSR1 asks the member to log out,
# SIGINT/SIGTERM stop it.
set -euo pipefail

if (($# != 5)); then
  echo "usage: $0 HOST PORT SENDER TARGET HEARTBTINT" >&2
  exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kSkip=77
command -v node >/dev/null || { echo "jspurefix member: SKIP: node is not installed (scripts/setup)" >&2; exit $kSkip; }
command -v npm >/dev/null || { echo "jspurefix member: SKIP: npm is not installed (scripts/setup)" >&2; exit $kSkip; }

if [[ ! -f "$here/node_modules/jspurefix/package.json" ]]; then
  (
    flock 9
    if [[ ! -f "$here/node_modules/jspurefix/package.json" ]]; then
      echo "jspurefix member: npm ci (jspurefix) into $here/node_modules" >&2
      npm ci --prefix "$here" --no-audit --no-fund --loglevel=error >&2
    fi
  ) 9<"$here"
fi

# Sequence numbers live for this run only: a new run is a new trading day.
store=$(mktemp -d "${TMPDIR:-/tmp}/linkwatch-jspurefix.XXXXXX")
export JSPUREFIX_STORE_DIR=$store
child=
cleanup() {
  if [[ -n $child ]]; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  rm -rf "$store"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap '[[ -n $child ]] && kill -USR1 "$child"' USR1

node "$here/member.js" "$@" &
child=$!
# wait returns early on a trapped signal (USR1): keep waiting while the member runs.
while kill -0 "$child" 2>/dev/null; do
  wait "$child" && status=0 || status=$?
  kill -0 "$child" 2>/dev/null || { child=; exit "$status"; }
done
