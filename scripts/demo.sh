#!/usr/bin/env bash
# Set up tinyreg and run its main job on the embedded default store:
#   1. register the starter knowledge graph (real boards, the project's own models) and,
#      when the seed catalogue is beside the checkout, its 23 models and device descriptions;
#   2. list, query and check the graph, and match models to boards;
#   3. deploy a model over the air to three virtual microcontrollers through a local
#      mosquitto broker (signed, chunked, verified, self-tested before commit);
#   4. one turn of the loop: sensing devices drift, the registry detects it, retrains,
#      registers and gates a new version and rolls it out in waves (needs the [train] extra);
#   5. time the models on the real TFLite Micro runtime and write the report.
# Usage: bash scripts/demo.sh       (store: $TINYREG_STORE or ~/.local/share/tinyreg/store;
#                                    report and device state: $TINYREG_DEMO_DIR or ./tinyreg-demo/;
#                                    TINYREG_DEMO_SETUP=0 skips scripts/setup.sh,
#                                    TINYREG_DEMO_LOOP=0 skips the loop turn)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${TINYREG_DEMO_SETUP:-1}" = 0 ] || bash scripts/setup.sh
tinyreg=.venv/bin/tinyreg
seed="${TINYREG_SEED_DIR:-../shared/seed}"
if [ -d "$seed" ]; then
  $tinyreg import --builtin "$seed"
else
  $tinyreg import --builtin
fi
$tinyreg list
echo
echo "Boards with an accelerometer (directly or through an IMU) and at least 256 KiB of RAM:"
$tinyreg query '
PREFIX tr: <https://w3id.org/tinyreg#>
PREFIX td: <https://www.w3.org/2019/wot/td#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?title ?ram WHERE {
  ?d a tr:Device ; td:title ?title ; tr:hasRAM/tr:capacityBytes ?ram ; tr:hasSensor/a ?t .
  { ?t rdfs:subClassOf* tr:Accelerometer } UNION { ?t tr:provides tr:Accelerometer }
  FILTER(?ram >= 262144)
} ORDER BY DESC(?ram)'
echo
echo "Boards that can run the gesture CNN (int8), best first:"
$tinyreg match --model gesture-cnn-int8
echo
echo "Why a model does not fit a board:"
$tinyreg explain kws-dscnn-int8 sparkfun-edge
echo
$tinyreg check

echo
echo "Over-the-air deployment to three virtual devices through mosquitto:"
work="${TINYREG_DEMO_DIR:-$PWD/tinyreg-demo}"
mkdir -p "$work"
port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
broker="mqtt://127.0.0.1:$port"
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" >"$work/mosquitto.conf"
mosquitto=$(command -v mosquitto || echo /usr/sbin/mosquitto)
"$mosquitto" -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
broker_pid=$!
devices_pid=""
sensors_pid=""
cleanup() {
  [ -n "$devices_pid" ] && kill "$devices_pid" 2>/dev/null || true
  [ -n "$sensors_pid" ] && kill "$sensors_pid" 2>/dev/null || true
  kill "$broker_pid" 2>/dev/null || true
}
trap cleanup EXIT
$tinyreg deploy --export-public-key "$work/registry.pub.pem"
boards=(arduino-nano-33-ble-sense arduino-nano-33-ble-sense-rev2 seeed-xiao-nrf52840-sense)
td_args=()
device_args=()
for board in "${boards[@]}"; do
  td_args+=(--td "kg_data/devices/$board.td.jsonld")
  device_args+=(--device "$board")
done
# the virtual devices print "ready: ..." once they listen on the broker
rm -rf "$work/devices"
$tinyreg device run "${td_args[@]}" --broker "$broker" --public-key "$work/registry.pub.pem" \
  --state-dir "$work/devices" >"$work/devices.out" 2>"$work/devices.log" &
devices_pid=$!
for _ in $(seq 600); do
  grep -q '^ready:' "$work/devices.out" && break
  if ! kill -0 "$devices_pid" 2>/dev/null; then
    cat "$work/devices.log" >&2
    exit 1
  fi
  sleep 0.1
done
sed 's/^/  /' "$work/devices.out"
$tinyreg deploy --model kws-dscnn-int8 "${device_args[@]}" --broker "$broker"
echo
echo "What runs where (from the graph):"
$tinyreg deployments --running

echo
echo "One turn of the loop (Tiny-MLOps) on four machine sensors whose machines drift at window 100 (20 s):"
if [ "${TINYREG_DEMO_LOOP:-1}" = 0 ]; then
  echo "  (skipped: TINYREG_DEMO_LOOP=0)"
elif .venv/bin/python -c 'from tinyreg.registry.retrain import tensorflow_available as t; raise SystemExit(not t())'; then
  sensors=()
  for i in 1 2 3 4; do
    .venv/bin/python - "$work/machine-$i.td.jsonld" "$i" <<'PY'
import json, sys
td = json.load(open("kg_data/devices/arduino-nano-33-ble-sense.td.jsonld"))
td["id"] = f"urn:tinyreg:device:machine-sensor-{sys.argv[2]}"
td["title"] = f"Machine sensor {sys.argv[2]}"
json.dump(td, open(sys.argv[1], "w"))
PY
    $tinyreg add device "$work/machine-$i.td.jsonld" >/dev/null
    sensors+=(--td "$work/machine-$i.td.jsonld")
  done
  $tinyreg drift establish --model vibration-ae-int8
  rm -rf "$work/sensors"
  $tinyreg device run "${sensors[@]}" --broker "$broker" --public-key "$work/registry.pub.pem" \
    --state-dir "$work/sensors" --workers 0 --sense 0.2 --drift-at 100 \
    >"$work/sensors.out" 2>"$work/sensors.log" &
  sensors_pid=$!
  for _ in $(seq 600); do
    grep -q '^ready:' "$work/sensors.out" && break
    sleep 0.1
  done
  # version 1 by name: the family alone takes its latest gated version (a re-run's)
  $tinyreg deploy --model vibration-ae-int8@1 --device machine-sensor-1 --device machine-sensor-2 \
    --device machine-sensor-3 --device machine-sensor-4 --broker "$broker"
  # 30 s of telemetry (baseline, drift, windows to retrain on), then drift check,
  # retraining (3 epochs), registration with lineage, the gate and a staged rollout
  $tinyreg loop run --broker "$broker" --seconds 30 --window 0.2 --epochs 3 |
    .venv/bin/python -c '
import json, sys
turn = json.load(sys.stdin)
t = turn["telemetry"]
print("  telemetry: %s windows, %s dropped" % (t["accepted"], t["dropped"]))
for d in turn["drift"] or []:
    print("  drift %s: %s" % (d["device"], d["kind"]))
r = turn["retrain"]
if r:
    g = r["gate"]
    print("  retrained %s: gate passed=%s, ROC AUC %s (running version %s), false alarm rate %s"
          " (running version %s)" % (r["candidate"], g["passed"], g["roc_auc"],
          g["baseline_roc_auc"], g["false_alarm_rate"], g["baseline_false_alarm_rate"]))
o = turn["rollout"]
if o:
    print("  rollout %s: %s, waves of %s devices" % (o["id"], o["status"],
          [len(w) for w in o["waves"]]))
'
  kill "$sensors_pid" 2>/dev/null || true
  echo "What runs where now:"
  $tinyreg deployments --running
else
  echo "  (retraining needs TensorFlow: bash scripts/setup.sh train, then run the demo again)"
fi

echo
echo "Host benchmarks on the TFLite Micro runtime, then the report:"
if [ -d "$seed" ]; then
  $tinyreg bench --all --search "$seed/models" -q >/dev/null
else
  $tinyreg bench --all -q >/dev/null
fi
$tinyreg report --out "$work/report" -q
echo
echo "Report: $work/report/report.html (Markdown: $work/report/report.md)"
