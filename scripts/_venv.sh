# shellcheck shell=bash
# Shared virtualenv bootstrap, sourced by scripts/test and scripts/demo.
#
# ev_ensure_venv [FILE...]  create .venv (Python 3.13), install requirements_dev.txt and
#                           the given requirements files (each skipped when unchanged)
#
# Installs use uv with Home Assistant's own package constraints, taken from the
# homeassistant wheel of the version the test harness pins (HA_VERSION below).
# A requirements file is only re-installed when its content changed: a hash of it
# is kept in .venv/.stamp-<file name>.
#
# Environment:
#   PYTHON    the Python 3.13 interpreter to create .venv with (default: searched)
#   EV_VENV   the virtualenv directory (default: <repo>/.venv)

# Must match the homeassistant version pinned by pytest-homeassistant-custom-component
# in requirements_dev.txt.
HA_VERSION="2025.4.4"
# The uv release Home Assistant pins; only used when no uv is found.
UV_BOOTSTRAP_VERSION="0.6.10"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${EV_VENV:-$REPO_ROOT/.venv}"
VENV_PY="$VENV/bin/python"

_ev_log() {
    printf '%s\n' "$*" >&2
}

_ev_die() {
    _ev_log "error: $*"
    exit 1
}

# Print the absolute path of the interpreter if $1 is a working Python 3.13.x.
_ev_probe_python() {
    local candidate="$1"
    [ -n "$candidate" ] || return 1
    PYENV_VERSION="${PYENV_VERSION:-3.13.0}" "$candidate" -c \
        'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1); ' 2>/dev/null \
        || return 1
    PYENV_VERSION="${PYENV_VERSION:-3.13.0}" "$candidate" -c \
        'import sys; print(sys.executable)' 2>/dev/null
}

# Find a Python 3.13 interpreter: $PYTHON, python3.13 on PATH (pyenv shims included),
# `pyenv which python3.13`, then the newest 3.13 under $HOME/.pyenv/versions.
ev_find_python() {
    local found candidate version
    if [ -n "${PYTHON:-}" ]; then
        found="$(_ev_probe_python "$PYTHON")" \
            || _ev_die "PYTHON=$PYTHON is not a working Python 3.13 interpreter"
        printf '%s\n' "$found"
        return 0
    fi
    if command -v python3.13 >/dev/null 2>&1 \
        && found="$(_ev_probe_python python3.13)"; then
        printf '%s\n' "$found"
        return 0
    fi
    if command -v pyenv >/dev/null 2>&1; then
        for version in ${PYENV_VERSION:-} $(pyenv versions --bare 2>/dev/null \
            | grep -E '^3\.13(\.[0-9]+)?$' | sort -rV); do
            candidate="$(PYENV_VERSION="$version" pyenv which python3.13 2>/dev/null)" \
                || continue
            if found="$(PYENV_VERSION="$version" _ev_probe_python "$candidate")"; then
                printf '%s\n' "$found"
                return 0
            fi
        done
    fi
    for candidate in $(ls -d "$HOME"/.pyenv/versions/3.13*/bin/python 2>/dev/null \
        | sort -rV); do
        if found="$(_ev_probe_python "$candidate")"; then
            printf '%s\n' "$found"
            return 0
        fi
    done
    _ev_die "Python 3.13 not found. Install it (for example with pyenv) or set PYTHON=/path/to/python3.13."
}

# Print the path of a uv executable, installing one next to the venv if none exists.
_ev_uv() {
    if [ -x "$VENV/bin/uv" ]; then
        printf '%s\n' "$VENV/bin/uv"
        return 0
    fi
    if command -v uv >/dev/null 2>&1; then
        command -v uv
        return 0
    fi
    local target="$VENV/.bootstrap"
    if [ ! -x "$target/bin/uv" ]; then
        _ev_log "Installing uv $UV_BOOTSTRAP_VERSION into $target ..."
        "$VENV_PY" -m pip install --quiet --disable-pip-version-check \
            --target "$target" "uv==$UV_BOOTSTRAP_VERSION" >"$VENV/.bootstrap.log" 2>&1 \
            || { cat "$VENV/.bootstrap.log" >&2; _ev_die "could not install uv"; }
    fi
    printf '%s\n' "$target/bin/uv"
}

# Print the path of Home Assistant's package_constraints.txt, fetching it once.
_ev_constraints() {
    local cache="$VENV/cache"
    local constraints="$cache/homeassistant-$HA_VERSION-package_constraints.txt"
    if [ ! -s "$constraints" ]; then
        mkdir -p "$cache"
        _ev_log "Fetching the package constraints of Home Assistant $HA_VERSION ..."
        "$VENV_PY" -m pip download --quiet --disable-pip-version-check --no-deps \
            --only-binary=:all: --dest "$cache" "homeassistant==$HA_VERSION" \
            >"$cache/download.log" 2>&1 \
            || { cat "$cache/download.log" >&2; _ev_die "could not download homeassistant==$HA_VERSION"; }
        "$VENV_PY" - "$cache" "$HA_VERSION" "$constraints" <<'PY'
import pathlib
import sys
import zipfile

cache, version, target = pathlib.Path(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3])
wheel = next(cache.glob(f"homeassistant-{version}-*.whl"))
with zipfile.ZipFile(wheel) as archive:
    data = archive.read("homeassistant/package_constraints.txt")
tmp = target.with_suffix(".tmp")
tmp.write_bytes(data)
tmp.replace(target)
wheel.unlink()  # only the constraints are needed; uv fetches the package itself
PY
    fi
    printf '%s\n' "$constraints"
}

# Install a requirements file (path relative to the repo root) unless already done.
ev_install_requirements() {
    local file="$1"
    local path="$REPO_ROOT/$file"
    local stamp="$VENV/.stamp-$(basename "$file")"
    local digest uv constraints
    [ -f "$path" ] || _ev_die "$file not found"
    digest="$("$VENV_PY" - "$path" "$HA_VERSION" <<'PY'
import hashlib
import pathlib
import sys

text = pathlib.Path(sys.argv[1]).read_bytes()
print(hashlib.sha256(text + sys.argv[2].encode()).hexdigest())
PY
)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
        return 0
    fi
    uv="$(_ev_uv)"
    constraints="$(_ev_constraints)"
    _ev_log "Installing $file into $VENV ..."
    local started=$SECONDS
    "$uv" pip install --quiet --python "$VENV_PY" -r "$path" -c "$constraints" \
        || _ev_die "installing $file failed"
    printf '%s\n' "$digest" >"$stamp"
    _ev_log "Installed $file in $((SECONDS - started)) s."
}

# Create the virtualenv if needed and install the development requirements plus
# any further requirements files given as arguments.
ev_ensure_venv() {
    local file
    mkdir -p "$VENV"
    # Serialise concurrent installs (for example scripts/test and scripts/demo).
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$VENV/.ev-install.lock"
        flock 9
    fi
    if ! "$VENV_PY" -c 'import sys' >/dev/null 2>&1; then
        local python
        python="$(ev_find_python)"
        _ev_log "Creating $VENV with $python ..."
        "$python" -m venv "$VENV" || _ev_die "could not create $VENV"
    fi
    "$VENV_PY" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)' \
        || _ev_die "$VENV does not use Python 3.13; remove it and run again"
    for file in requirements_dev.txt "$@"; do
        ev_install_requirements "$file"
    done
    if command -v flock >/dev/null 2>&1; then
        exec 9>&-
    fi
}
