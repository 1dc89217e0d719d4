#!/usr/bin/env bash
# Set up tinyreg and run its main job on the embedded default store: register the
# starter knowledge graph (real boards, the project's own models) and, when the seed
# catalogue is beside the checkout, its 23 models and device descriptions; then list,
# query and check the graph, and match models to boards.
# Usage: bash scripts/demo.sh       (store: $TINYREG_STORE or ~/.local/share/tinyreg/store)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
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
