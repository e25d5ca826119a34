#!/usr/bin/env bash
# Installs everything the gateway, its demo and its tests need, on a fresh machine or in CI.
#
#   bash scripts/setup.sh            # every step
#   bash scripts/setup.sh STEP...    # only these: python graphiql audit-tools chromium
#
# Idempotent and quick when nothing changed: each step checks a stamp or a version first.
#   python       .venv (python3 -m venv) + pip install -e '.[dev]' -e ./sandbox (the emulators) +
#                playwright; redone when either pyproject.toml changes (stamp: .venv/.setup-pyproject.sha256)
#   graphiql     the GraphiQL/React bundles pinned in gateway/static/graphiql/vendor.json, from the npm
#                registry, into gateway/static/graphiql/vendor/ (stamp: vendor/.vendor.json.sha256)
#   audit-tools  npm packages the Node tests drive the gateway with, pinned, into .tools/node_modules:
#                graphql-http (GraphQL-over-HTTP audit), Apollo Client and urql (persisted queries)
#   chromium     Debian's chromium at /usr/bin/chromium for the browser test (apt-get, as root)
# Set SETUP_SKIP_BROWSER=1 to skip the chromium step (the browser test is then skipped too).
# Any failure stops the script with a message (set -e), so CI fails loudly.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
GRAPHIQL_DIR=gateway/static/graphiql
TOOLS_DIR=.tools
GRAPHQL_HTTP_VERSION=1.23.1
GRAPHQL_VERSION=16.15.0
# One npm install puts all of these in place together (npm --no-save prunes what it was not given).
AUDIT_PACKAGES=(
  "graphql-http@$GRAPHQL_HTTP_VERSION"
  "graphql@$GRAPHQL_VERSION"
  "@apollo/client@4.3.8"
  "rxjs@7.8.2"
  "@urql/core@6.0.3"
  "@urql/exchange-persisted@5.0.1"
)
PLAYWRIGHT_SPEC='playwright>=1.50,<2'
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

apt_updated=0
apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    die "need the Debian packages '$*' and this user is not root: run 'sudo apt-get install -y $*' and retry"
  fi
  command -v apt-get >/dev/null || die "need '$*' and there is no apt-get here: install it by hand and retry"
  if [ "$apt_updated" -eq 0 ]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

need_npm() {
  if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    apt_install nodejs npm
  fi
}

step_python() {
  command -v python3 >/dev/null || die "python3 (3.11 or newer) is needed"
  if [ ! -x "$VENV/bin/python" ]; then
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "python3 is older than 3.11"
    say "creating $VENV"
    python3 -m venv "$VENV"
  fi
  local stamp="$VENV/.setup-pyproject.sha256" want
  want="$(cat pyproject.toml sandbox/pyproject.toml | sha256sum | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$VENV/bin/python" -c 'import gateway, emulators, playwright' 2>/dev/null; then
    say "python: up to date"
    return
  fi
  say "pip install -e '.[dev]' -e ./sandbox (and $PLAYWRIGHT_SPEC; its browsers are never downloaded)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]' -e ./sandbox "$PLAYWRIGHT_SPEC"
  echo "$want" >"$stamp"
}

# Prints "package version served-name path-in-package" for every file in vendor.json.
vendor_files() {
  node -e '
    const manifest = require(process.argv[1]);
    for (const p of manifest.packages)
      for (const [name, path] of Object.entries(p.files)) console.log(p.name, p.version, name, path);
  ' "$PWD/$GRAPHIQL_DIR/vendor.json"
}

step_graphiql() {
  need_npm
  local vendor="$GRAPHIQL_DIR/vendor" stamp want
  stamp="$vendor/.vendor.json.sha256"
  want="$(sha256_of "$GRAPHIQL_DIR/vendor.json")"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    say "graphiql: assets up to date"
    return
  fi
  local listing work
  listing="$(vendor_files)"
  [ -n "$listing" ] || die "$GRAPHIQL_DIR/vendor.json lists no files"
  work="$(mktemp -d)"
  mkdir -p "$work/out"
  local package version name path tarball
  while read -r package version name path; do
    if [ ! -d "$work/$package" ]; then
      say "npm pack $package@$version"
      tarball="$(cd "$work" && npm pack --silent "$package@$version" | tail -n 1)"
      [ -f "$work/$tarball" ] || die "npm pack $package@$version produced no tarball"
      mkdir -p "$work/$package"
      tar -xzf "$work/$tarball" -C "$work/$package"
    fi
    [ -f "$work/$package/package/$path" ] || die "$package@$version has no file $path"
    cp "$work/$package/package/$path" "$work/out/$name"
  done <<<"$listing"
  # Replace the whole directory at once: a half-filled vendor/ never looks installed.
  rm -rf "$vendor"
  mv "$work/out" "$vendor"
  rm -rf "$work"
  echo "$want" >"$stamp"
  say "graphiql: assets installed in $vendor"
}

step_audit_tools() {
  need_npm
  local spec name version missing=""
  for spec in "${AUDIT_PACKAGES[@]}"; do
    name="${spec%@*}"
    version="${spec##*@}"
    if ! node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' \
        "$PWD/$TOOLS_DIR/node_modules/$name/package.json" "$version" 2>/dev/null; then
      missing="$missing $spec"
    fi
  done
  if [ -z "$missing" ]; then
    say "audit-tools: ${AUDIT_PACKAGES[*]} present"
    return
  fi
  say "npm install ${AUDIT_PACKAGES[*]} into $TOOLS_DIR (missing or other versions:$missing)"
  mkdir -p "$TOOLS_DIR"
  npm install --silent --no-save --no-package-lock --prefix "$TOOLS_DIR" "${AUDIT_PACKAGES[@]}"
  for spec in "${AUDIT_PACKAGES[@]}"; do
    [ -f "$TOOLS_DIR/node_modules/${spec%@*}/package.json" ] || die "${spec%@*} did not install into $TOOLS_DIR"
  done
}

step_chromium() {
  if [ "${SETUP_SKIP_BROWSER:-0}" = "1" ]; then
    say "chromium: skipped (SETUP_SKIP_BROWSER=1)"
    return
  fi
  if [ -x /usr/bin/chromium ]; then
    say "chromium: present"
    return
  fi
  apt_install chromium
  [ -x /usr/bin/chromium ] || die "chromium did not install at /usr/bin/chromium"
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(python graphiql audit-tools chromium)
for step in "${steps[@]}"; do
  case "$step" in
    python) step_python ;;
    graphiql) step_graphiql ;;
    audit-tools) step_audit_tools ;;
    chromium) step_chromium ;;
    *) die "unknown step '$step' (python graphiql audit-tools chromium)" ;;
  esac
done
say "done"
