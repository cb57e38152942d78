#!/usr/bin/env bash
# Generates the man pages (help2man) and the bash completion from the programs' own --help, so
# they come from the same option definitions the CLI parses and cannot drift from them.
# Usage: cli_docs.sh VMREPLAY VMRECORD OUT_DIR   (help2man absent: completion only)
set -euo pipefail
vmreplay=$1 vmrecord=$2 out=$3
mkdir -p "$out/man1" "$out/wrap"

# Subcommands and their one-line summaries, from `vmreplay --help`.
commands=() summaries=()
while IFS= read -r line; do
  commands+=("$(awk '{print $1}' <<<"$line")")
  summaries+=("$(sed -E 's/^ +[a-z-]+ +//' <<<"$line")")
done < <("$vmreplay" --help | sed -n '/^commands:/,/^$/p' | grep -E '^  [a-z]')

options_of() {  # the long and short options a --help text lists in its option column
  grep -E '^ +-' | sed -E 's/^ +//; s/ {2,}.*$//; s/ arg.*$//' | grep -oE -- '--?[A-Za-z0-9][A-Za-z0-9-]*' |
    sort -u | tr '\n' ' ' | sed 's/ $//'
}

if command -v help2man >/dev/null; then
  version=$("$vmreplay" --version | awk '{print $2}')
  see_also="vmrecord(1)"
  for i in "${!commands[@]}"; do
    c=${commands[$i]}
    wrapper="$out/wrap/vmreplay-$c"
    printf '#!/bin/sh\n[ "$1" = --version ] && exec "%s" --version\nexec "%s" %s "$@"\n' \
      "$vmreplay" "$vmreplay" "$c" >"$wrapper"
    chmod +x "$wrapper"
    help2man -N --no-discard-stderr -n "${summaries[$i]}" --version-string="$version" \
      -o "$out/man1/vmreplay-$c.1" "$wrapper"
    see_also+=", vmreplay-$c(1)"
  done
  printf '[SEE ALSO]\n%s\n' "$see_also" >"$out/see_also.h2m"
  help2man -N -n "record-and-replay simulator for host memory traffic" \
    --include="$out/see_also.h2m" -o "$out/man1/vmreplay.1" "$vmreplay"
  printf '[SEE ALSO]\nvmreplay(1)\n' >"$out/see_also_vmrecord.h2m"
  help2man -N --version-string="$version" -n "record a Linux process's mmap-family and malloc-family calls" \
    --include="$out/see_also_vmrecord.h2m" -o "$out/man1/vmrecord.1" "$vmrecord"
fi

{
  echo "# bash completion for vmreplay and vmrecord, generated from their --help by cli_docs.sh."
  echo "_vmreplay() {"
  echo '  local cur=${COMP_WORDS[COMP_CWORD]} opts'
  echo '  if [[ $COMP_CWORD -eq 1 && $cur != -* ]]; then'
  echo "    COMPREPLY=(\$(compgen -W \"${commands[*]}\" -- \"\$cur\") \$(compgen -f -- \"\$cur\"))"
  echo '    return'
  echo '  fi'
  echo '  case ${COMP_WORDS[1]} in'
  for c in "${commands[@]}"; do
    echo "    $c) opts=\"$("$vmreplay" "$c" --help | options_of)\" ;;"
  done
  echo "    *) opts=\"$("$vmreplay" replay --help | options_of)\" ;;"
  echo '  esac'
  echo '  if [[ $cur == -* ]]; then'
  echo '    COMPREPLY=($(compgen -W "$opts" -- "$cur"))'
  echo '  else'
  echo '    COMPREPLY=($(compgen -f -- "$cur"))'
  echo '  fi'
  echo "}"
  echo "complete -o filenames -F _vmreplay vmreplay"
  echo "_vmrecord() {"
  echo '  local cur=${COMP_WORDS[COMP_CWORD]} i'
  echo '  for ((i = 1; i < COMP_CWORD; i++)); do'
  echo '    [[ ${COMP_WORDS[i]} == -- ]] && { COMPREPLY=($(compgen -c -- "$cur")); return; }'
  echo '  done'
  echo "  COMPREPLY=(\$(compgen -W \"$("$vmrecord" --help | options_of)\" -- \"\$cur\"))"
  echo "}"
  echo "complete -o default -F _vmrecord vmrecord"
} >"$out/vmreplay.bash"
