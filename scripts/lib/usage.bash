# Sourced by the scripts in scripts/ (after their `cd` to the repository
# root), so that each answers -h and --help the same way: with the comment
# at its top, which is where its usage is written once.

# usage prints the top comment of the running script, from its second line
# to the line before `set -euo pipefail`, without the leading "# ".
usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "scripts/${0##*/}"
}

# wants_help tells whether any argument asks for help.
wants_help() {
  local arg
  for arg in "$@"; do
    case "$arg" in -h | -help | --help) return 0 ;; esac
  done
  return 1
}
