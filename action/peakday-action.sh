#!/usr/bin/env bash
# The shell steps of the peakday GitHub composite action (action.yml at the repository root),
# kept here so they can be run and tested outside GitHub with fake GITHUB_* variables:
#
#   action/peakday-action.sh install   pip install peakday (the action's own checkout, or
#                                      $PEAKDAY_PACKAGE), then its tools
#   action/peakday-action.sh run       run $PEAKDAY_EXPERIMENT into $PEAKDAY_OUT; write
#                                      summary.md to $GITHUB_STEP_SUMMARY and exit-code,
#                                      verdict, results-dir to $GITHUB_OUTPUT; never fails itself
#   action/peakday-action.sh finish    exit with $PEAKDAY_EXIT_CODE (the job fails as peakday did)
#
# Settings (the action maps its inputs to them):
#   PEAKDAY_PACKAGE     what pip installs (default: the folder this action was checked out to,
#                       $GITHUB_ACTION_PATH: peakday is not on PyPI yet)
#   PEAKDAY_EXPERIMENT  a file, or the name of a shipped experiment (default: gate)
#   PEAKDAY_OUT         the run folder (default: peakday-results)
#   PEAKDAY_PLATFORM    optional: local, docker or external
#   PEAKDAY_ARGS        optional extra arguments for 'peakday run'
set -uo pipefail

log() { printf 'peakday-action: %s\n' "$*" >&2; }

install() {
  set -e
  local package="${PEAKDAY_PACKAGE:-${GITHUB_ACTION_PATH:-}}"
  if [ -z "$package" ]; then
    log "error: nothing to install: set PEAKDAY_PACKAGE (a wheel, a path or a version) or run as a GitHub action (GITHUB_ACTION_PATH)."
    exit 2
  fi
  log "pip install $package"
  python -m pip install --quiet "$package"
  peakday --version
  peakday tools install
  peakday doctor --platform "${PEAKDAY_PLATFORM:-local}"
}

output() {  # name value: one line of step output, when GitHub gives a file for them
  if [ -n "${GITHUB_OUTPUT:-}" ]; then printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"; fi
}

run() {
  local experiment="${PEAKDAY_EXPERIMENT:-gate}" out="${PEAKDAY_OUT:-peakday-results}"
  local -a argv=(peakday run "$experiment" --out "$out" --no-color)
  if [ -n "${PEAKDAY_PLATFORM:-}" ]; then argv+=(--platform "$PEAKDAY_PLATFORM"); fi
  if [ -n "${PEAKDAY_ARGS:-}" ]; then
    local -a extra
    read -r -a extra <<<"$PEAKDAY_ARGS"
    argv+=("${extra[@]}")
  fi
  log "${argv[*]}"
  "${argv[@]}" 2>&1 | tee "${RUNNER_TEMP:-/tmp}/peakday-run.log"
  local code=${PIPESTATUS[0]}
  local verdict="none"
  if [ -f "$out/result.json" ]; then
    verdict=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["verdict"])' \
      "$out/result.json" 2>/dev/null || echo unknown)
  fi
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    if [ -f "$out/summary.md" ]; then
      cat "$out/summary.md" >>"$GITHUB_STEP_SUMMARY"
    else
      {
        printf '### peakday: %s did not produce a result (exit %s)\n\n```\n' "$experiment" "$code"
        tail -n 20 "${RUNNER_TEMP:-/tmp}/peakday-run.log"
        printf '```\n'
      } >>"$GITHUB_STEP_SUMMARY"
    fi
  fi
  output exit-code "$code"
  output verdict "$verdict"
  output results-dir "$out"
  log "exit code $code, verdict $verdict"
  return 0  # the finish step fails the job, after the run folder is uploaded
}

finish() {
  local code="${PEAKDAY_EXIT_CODE:-}"
  if ! [[ "$code" =~ ^[0-9]+$ ]]; then
    log "no exit code from the run step"
    exit 3
  fi
  exit "$code"
}

case "${1:-}" in
  install | run | finish) "$1" ;;
  *) log "usage: $0 install|run|finish"; exit 2 ;;
esac
