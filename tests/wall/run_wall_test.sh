#!/usr/bin/env bash
# End-to-end test of the status wall in headless Chromium.
#
#   run_wall_test.sh LINKWATCH_BINARY SOURCE_DIR ARTIFACT_DIR [CASE...]
#
# CASE: live (monitor + simulated members, a fault injected on command), demo (the demo
# configuration with rolling faults), scale (500 sessions on one screen); default all.
# This script owns the processes (started here, stopped by the trap); wall_test.mjs drives
# the browser and checks the page. Every wait has a deadline; nothing sleeps to synchronise.
set -euo pipefail

if (($# < 3)); then
  echo "usage: $0 LINKWATCH_BINARY SOURCE_DIR ARTIFACT_DIR [live|demo|scale ...]" >&2
  exit 2
fi
linkwatch=$1
source_dir=$2
artifact_dir=${3:-${ARTIFACT_DIR:-build/artifacts}}
shift 3
cases=("$@")
((${#cases[@]})) || cases=(live demo scale)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
chromium=${CHROMIUM:-/usr/bin/chromium}
# CTest's SKIP_RETURN_CODE: a machine without the browser skips rather than fails.
kSkip=77

[[ -x "$linkwatch" ]] || { echo "wall: no executable $linkwatch (build the linkwatch target)" >&2; exit 1; }
command -v node >/dev/null || { echo "wall: SKIP: node is not installed (scripts/setup)" >&2; exit $kSkip; }
[[ -x "$chromium" ]] || { echo "wall: SKIP: $chromium is missing (scripts/setup installs chromium)" >&2; exit $kSkip; }

# playwright-core from the lock file, installed once; a lock on this directory serialises
# parallel runs (npm ci starts by deleting node_modules).
if [[ ! -f "$here/node_modules/playwright-core/package.json" ]]; then
  (
    flock 9
    if [[ ! -f "$here/node_modules/playwright-core/package.json" ]]; then
      echo "wall: npm ci (playwright-core) into $here/node_modules" >&2
      npm ci --prefix "$here" --no-audit --no-fund --loglevel=error >&2
    fi
  ) 9<"$here"
fi

mkdir -p "$artifact_dir"
artifact_dir=$(cd "$artifact_dir" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/linkwatch-wall.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# N distinct free loopback ports: all held open together, then released.
free_ports() {
  node -e '
    const net = require("net"), n = +process.argv[1], servers = [];
    const next = () => {
      if (servers.length === n) {
        console.log(servers.map((s) => s.address().port).join(" "));
        servers.forEach((s) => s.close());
        return;
      }
      const s = net.createServer().listen(0, "127.0.0.1", next);
      servers.push(s);
    };
    next();' "$1"
}

# Waits until /healthz answers, or fails after the deadline (or if the process died).
wait_healthy() {
  local url=$1 pid=$2 log=$3 deadline=$((SECONDS + 15))
  until curl -fsS -o /dev/null --max-time 1 "$url/healthz" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "wall: the monitor exited; its log:" >&2
      cat "$log" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "wall: $url/healthz did not answer within 15 s" >&2
      return 1
    fi
    sleep 0.1
  done
}

# The [DEFAULT] block every generated configuration shares: all day, memory store.
config_header() {
  local http_port=$1 fix_port=$2
  cat <<EOF
[LINKWATCH]
HttpListen=127.0.0.1:$http_port

[DEFAULT]
BeginString=FIX.4.4
SenderCompID=LINKWATCH
ConnectionType=acceptor
SocketAcceptHost=127.0.0.1
SocketAcceptPort=$fix_port
StartTime=00:00:00
EndTime=00:00:00
NonStopSession=Y
UseDataDictionary=N
ResetOnLogon=Y
ResetOnLogout=Y
ResetOnDisconnect=Y
Criticality=standard
EOF
}

session() {  # MemberId MemberName Criticality HeartBtInt [extra key=value lines]
  printf '\n[SESSION]\nMemberId=%s\nMemberName=%s\nTargetCompID=%s\nCriticality=%s\nHeartBtInt=%s\n' \
    "$1" "$2" "$1" "$3" "$4"
  shift 4
  local kv
  for kv in "$@"; do printf '%s\n' "$kv"; done
}

start_monitor() {  # NAME CONFIG COMMAND...: sets monitor_pid
  local name=$1 config=$2
  shift 2
  "$linkwatch" "$@" --config "$config" >"$work/$name.log" 2>&1 &
  monitor_pid=$!
  pids+=("$monitor_pid")
}

run_node() {
  node "$here/wall_test.mjs" --chromium "$chromium" --artifacts "$artifact_dir" \
    --profile "$(mktemp -d "$work/profile.XXXXXX")" "$@"
}

case_live() {
  local ports http_port fix_port control_port config=$work/live.cfg
  read -r http_port fix_port control_port <<<"$(free_ports 3)"
  {
    config_header "$http_port" "$fix_port"
    session BANK01 "Northbridge Capital" critical 1
    session BANK02 "Aldgate Securities" critical 1
    session BANK03 "Harbour Point Markets" standard 1
    session BANK04 "<img src=x onerror=alert(1)>" standard 1
    session BANK05 'Calder & Rowe "</script><b>bold</b>' test 1
  } >"$config"
  start_monitor live-monitor "$config" run
  local monitor=$monitor_pid
  wait_healthy "http://127.0.0.1:$http_port" "$monitor" "$work/live-monitor.log"
  "$linkwatch" simulate --config "$config" --control "127.0.0.1:$control_port" \
    >"$work/live-sim.log" 2>&1 &
  pids+=($!)
  run_node --case live --url "http://127.0.0.1:$http_port" --control "127.0.0.1:$control_port" \
    --members BANK01,BANK02,BANK03,BANK04,BANK05 --monitor-pid "$monitor" \
    || { echo "--- monitor log"; tail -n 30 "$work/live-monitor.log"; echo "--- simulator log";
         tail -n 30 "$work/live-sim.log"; exit 1; } >&2
}

case_demo() {
  local http_port fix_port config=$work/demo.cfg
  read -r http_port fix_port <<<"$(free_ports 2)"
  sed -e "s/^HttpListen=.*/HttpListen=127.0.0.1:$http_port/" \
    -e "s/^SocketAcceptPort=.*/SocketAcceptPort=$fix_port/" \
    "$source_dir/config/demo.cfg" >"$config"
  start_monitor demo "$config" demo --fault-interval-ms 300 --duration 120
  wait_healthy "http://127.0.0.1:$http_port" "$monitor_pid" "$work/demo.log"
  run_node --case demo --url "http://127.0.0.1:$http_port" \
    || { echo "--- demo log"; tail -n 30 "$work/demo.log"; exit 1; } >&2
}

# 500 sessions on a second monitor instance, whose wall must stay readable on one 1920x1080
# screen. Most members are simulated (HeartBtInt 30, cheap); a few never connect (down), some
# are outside their schedule (offhours) and the Node script puts a few into maintenance, so
# that the picture is a realistic one: mostly green, the exceptions easy to find.
case_scale() {
  local http_port fix_port config=$work/scale.cfg i hour simulated=()
  read -r http_port fix_port <<<"$(free_ports 2)"
  hour=$((10#$(date -u +%H)))
  local closed_from closed_to
  closed_from=$(printf '%02d:00:00' $(((hour + 2) % 24)))
  closed_to=$(printf '%02d:00:00' $(((hour + 3) % 24)))
  local -a first=(Northbridge Aldgate Harbour Meridian Kestrel Blackfriars Ostrava Silverline
    Calder Baltic Fenwick Lombard Greywater Iberia Nordhavn Thamesgate Alpine Crescent Saxon
    Bramley Pacific Edelweiss Westmoor Corvid Helvetia)
  local -a second=("Capital" "Securities" "Markets" "Bank" "Trading" "Asset Management"
    "Brokers" "Clearing" "Partners" "Investments" "Quant" "Liquidity" "Derivatives" "& Co"
    "Global Markets" "Handelsbank" "Valores" "Commercial Bank" "Privatbank" "Trading Desk")
  {
    config_header "$http_port" "$fix_port"
    for ((i = 1; i <= 500; i++)); do
      local id name crit extra=()
      printf -v id 'M%03d' "$i"
      name="${first[i % ${#first[@]}]} ${second[(i / ${#first[@]}) % ${#second[@]}]}"
      crit=standard
      ((i % 7 == 0)) && crit=critical
      ((i % 11 == 0)) && crit=test
      if ((i % 23 == 0)); then
        extra=("NonStopSession=N" "StartTime=$closed_from" "EndTime=$closed_to")
      elif ((i % 53 != 17)); then
        simulated+=(--member "$id")
      fi
      session "$id" "$name" "$crit" 30 "${extra[@]}"
    done
  } >"$config"
  start_monitor scale "$config" run
  wait_healthy "http://127.0.0.1:$http_port" "$monitor_pid" "$work/scale.log"
  "$linkwatch" simulate --config "$config" "${simulated[@]}" >"$work/scale-sim.log" 2>&1 &
  pids+=($!)
  run_node --case scale --url "http://127.0.0.1:$http_port" --expect-links 500 \
    --expect-up $((${#simulated[@]} / 2)) \
    || { echo "--- monitor log"; tail -n 30 "$work/scale.log"; echo "--- simulator log";
         tail -n 30 "$work/scale-sim.log"; exit 1; } >&2
}

for c in "${cases[@]}"; do
  case $c in
    live | demo | scale) "case_$c" ;;
    *)
      echo "wall: unknown case '$c' (live, demo, scale)" >&2
      exit 2
      ;;
  esac
done
echo "wall: ${cases[*]}: passed"
