#!/usr/bin/env bash
# Set up tinyreg in ./.venv on a Debian machine: system packages (Python venv, Java for the
# HermiT OWL reasoner), then the Python package with the extras asked for.
# Usage: bash scripts/setup.sh [EXTRAS]   e.g. "test"
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"

need_apt=()
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
python3 -c "import ensurepip, venv" >/dev/null 2>&1 || need_apt+=(python3-venv python3-pip)
command -v java >/dev/null 2>&1 || need_apt+=(default-jre-headless)
# nm and objdump read the TFLM wheel when the runtime tables are regenerated (and tested)
command -v objdump >/dev/null 2>&1 || need_apt+=(binutils)
# the MQTT broker the deployment tests and benchmark start on loopback
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || need_apt+=(mosquitto)
# npm fetches the W3C TD 1.1 JSON Schema the REST directory validates TDs with (see below)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# headless Chromium renders the HTML report in its test (asked for with the test extra)
case ",$extras," in *,test,*) [ -x /usr/bin/chromium ] || need_apt+=(chromium) ;; esac
# Virtuoso open source: the second real SPARQL server of the store contract and replica tests
case ",$extras," in *,test,*) [ -x /usr/bin/virtuoso-t ] || need_apt+=(virtuoso-opensource) ;; esac
# wrk loads the REST server in benchmarks/http_load.py (a C load generator, so that the
# client is not the bottleneck; asked for with the test extra)
case ",$extras," in *,test,*) command -v wrk >/dev/null 2>&1 || need_apt+=(wrk) ;; esac
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "installing system packages: ${need_apt[*]}" >&2
  # wait (up to 10 min) for another apt or unattended-upgrades holding the dpkg lock
  $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if [ -n "$extras" ]; then
  .venv/bin/python -m pip install -q -e ".[$extras]"
else
  .venv/bin/python -m pip install -q -e .
fi

# The W3C TD 1.1 JSON Schema (td-json-schema-validation.json of w3c/wot-thing-description),
# as shipped by the npm package of the Thing Description Playground (MIT). It goes beside the
# venv's data files, where `tinyreg serve` looks for it (TINYREG_TD_SCHEMA overrides).
TD_SCHEMA_PACKAGE="@thing-description-playground/core@1.4.0"
TD_SCHEMA_SHA256="2737abb02f0cbd3f5ea564388002437c93966b61cd09cca47b2687ceb1688541"
td_schema=".venv/share/tinyreg/td-schema-1.1.json"
if [ ! -f "$td_schema" ] || ! echo "$TD_SCHEMA_SHA256  $td_schema" | sha256sum -c --status; then
  work="$(mktemp -d)"
  (cd "$work" && npm pack --silent "$TD_SCHEMA_PACKAGE" >/dev/null 2>&1 && tar xzf ./*.tgz package/td-schema.json)
  echo "$TD_SCHEMA_SHA256  $work/package/td-schema.json" | sha256sum -c --status \
    || { echo "could not fetch the TD JSON Schema from $TD_SCHEMA_PACKAGE with npm, or it has an unexpected checksum" >&2; exit 1; }
  mkdir -p "$(dirname "$td_schema")"
  cp "$work/package/td-schema.json" "$td_schema"
  rm -rf "$work"
fi

# The firmware agent (firmware/agent/): the Arm toolchain and QEMU from Debian, the TFLM library
# per core (cached outside the checkout, keyed by its inputs) and the agent ELFs. The tests of
# tests/test_firmware_target.py run it; a second run is a no-op.
case ",$extras," in *,test,*) bash scripts/firmware.sh >/dev/null ;; esac
