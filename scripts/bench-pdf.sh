#!/usr/bin/env bash
# Text extraction from PDFs: `dropgate pdf text --layout` against poppler's
# `pdftotext -layout` on the same files in one run, pinned to one core:
# pages per second (best and median of REPEAT runs) and peak RSS
# (/usr/bin/time -v). Prints one line per tool and file.
#
#   scripts/bench-pdf.sh              # COPIES=500, REPEAT=5
#   COPIES=300 REPEAT=3 scripts/bench-pdf.sh
#
# The input is made here with qpdf and not committed (bench-data/ is
# git-ignored): every PDF under samples/pdf/ that pdftotext reads (the
# refused and scanned ones left out), concatenated COPIES times into one
# multi-page file, plus each generator's sample repeated on its own.
set -euo pipefail
cd "$(dirname "$0")/.."
copies="${COPIES:-500}"
repeat="${REPEAT:-5}"
cargo build --release --locked --bin dropgate
mkdir -p bench-data
pin=""
command -v taskset >/dev/null 2>&1 && pin="taskset -c $(( $(nproc) - 1 ))"

mapfile -t sources < <(find samples/pdf -name '*.pdf' \
    ! -name '*user-password*' ! -name '*bomb*' ! -name '*truncated*' ! -name '*scanned*' \
    ! -path '*/bad/*' | sort)
repeat_pages() { # OUT FILE...
    local out="$1"; shift
    local args=()
    for _ in $(seq "$copies"); do args+=("$@"); done
    qpdf --empty --pages "${args[@]}" -- "$out"
}
files=()
# The mixed file stays under dropgate's default limit of 2,000 pages.
per_copy=0
for f in "${sources[@]}"; do per_copy=$(( per_copy + $(qpdf --show-npages "$f") )); done
mixed_copies=$(( copies * per_copy > 1900 ? 1900 / per_copy : copies ))
mixed="bench-data/pdf-mixed-x$mixed_copies.pdf"
[ -f "$mixed" ] || copies=$mixed_copies repeat_pages "$mixed" "${sources[@]}"
files+=("$mixed")
for one in samples/pdf/reader/pdflatex-type1.pdf samples/pdf/reader/libreoffice-truetype.pdf \
           samples/pdf/reader/chromium-print.pdf; do
    out="bench-data/pdf-$(basename "$one" .pdf)-x$copies.pdf"
    [ -f "$out" ] || repeat_pages "$out" "$one"
    files+=("$out")
done

measure() { # TOOL FILE PAGES CMD...
    local tool="$1" file="$2" pages="$3"; shift 3
    local rates=() rss=0
    for _ in $(seq "$repeat"); do
        local log; log=$(mktemp)
        local start; start=$(date +%s.%N)
        /usr/bin/time -v $pin "$@" >/dev/null 2>"$log" || { cat "$log" >&2; exit 1; }
        local end; end=$(date +%s.%N)
        local kb; kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
        rm -f "$log"
        local secs; secs=$(echo "$end - $start" | bc -l)
        rates+=("$(awk -v p="$pages" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? p / s : 0) }')")
        [ "$kb" -gt "$rss" ] && rss="$kb"
    done
    local sorted; sorted=$(printf '%s\n' "${rates[@]}" | sort -n)
    local best; best=$(echo "$sorted" | tail -1)
    local median; median=$(echo "$sorted" | sed -n "$(( (repeat + 1) / 2 ))p")
    printf '%-9s %-45s pages=%-5s pages/s best=%-6s median=%-6s peak_rss=%.1f MB\n' \
        "$tool" "$(basename "$file")" "$pages" "$best" "$median" "$(echo "$rss / 1024" | bc -l)"
}

for file in "${files[@]}"; do
    cat "$file" >/dev/null
    pages=$(qpdf --show-npages "$file")
    measure dropgate "$file" "$pages" ./target/release/dropgate pdf text --layout "$file"
    measure pdftotext "$file" "$pages" pdftotext -layout "$file" -
done
