#!/usr/bin/env bash
# Writes the man pages (OUT/man/man1/*.1) and the shell completions (OUT/completions/SHELL/)
# of rmt-inspect, rmt-ref and rmt-conform, from their command-line definitions.
# Usage: bash contrib/generate-man-and-completions.sh [OUT]   (OUT defaults to target/shell)
# Then: man -l OUT/man/man1/rmt-inspect.1; source OUT/completions/bash/rmt-inspect.bash.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/shell}
cargo build -q --release --bin rmt-inspect --bin rmt-ref --bin rmt-conform
bin=target/release
mkdir -p "$out/man/man1" "$out/completions"/{bash,zsh,fish,elvish,powershell}
gen() { # gen BINARY KIND: the binary's own way to print KIND
  case $1 in
    rmt-inspect) "$bin/$1" --generate "$2" ;;
    *) "$bin/$1" generate "$2" ;;
  esac
}
for b in rmt-inspect rmt-ref rmt-conform; do
  gen "$b" man >"$out/man/man1/$b.1"
  gen "$b" bash >"$out/completions/bash/$b.bash"
  gen "$b" zsh >"$out/completions/zsh/_$b"
  gen "$b" fish >"$out/completions/fish/$b.fish"
  gen "$b" elvish >"$out/completions/elvish/$b.elv"
  gen "$b" powershell >"$out/completions/powershell/$b.ps1"
done
echo "man pages and completions in $out"
