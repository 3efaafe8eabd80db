#!/usr/bin/env bash
# The interop suite on its own: builds the `refunds` binary and the Bias request driver, creates or
# updates interop/.venv from requirements.txt (pinned versions from PyPI), runs pytest.
#   interop/run.sh                      # every test
#   interop/run.sh -k bias -x           # arguments go to pytest
# Needs Python 3.9+ with venv, cargo, and network access to PyPI the first time.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."

cargo build -p refunds-cli -p refunds-bias --bin refunds --example interop
target="${CARGO_TARGET_DIR:-$PWD/target}"
export REFUNDS_BIN="$target/debug/refunds"
export REFUNDS_BIAS_DRIVER="$target/debug/examples/interop"

python="${PYTHON:-python3}"
venv="$here/.venv"
stamp="$venv/requirements.sha256"
wanted="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --requirement "$here/requirements.txt"
    "$venv/bin/python" -m pip check
    echo "$wanted" > "$stamp"
fi
cd "$here"
exec "$venv/bin/python" -m pytest -p no:cacheprovider "$@"
