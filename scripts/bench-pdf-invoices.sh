#!/usr/bin/env bash
# PDF invoices end to end (issue 13):
#
# 1. `dropgate translate FILE.pdf` (a process per file, as a mapping author
#    or a script runs it) on every sample invoice under samples/pdf/: the
#    text-layer ones, and separately the scanned one (OCR: pdftoppm at
#    300 dpi and tesseract), each file run REPEAT times in a row: invoices
#    per second, pages per second and peak RSS (/usr/bin/time -v), and the
#    same files through `pdftotext -layout` (the text step alone, for
#    comparison).
# 2. The gateway: COPIES copies of each text-layer sample, each made
#    distinct (a comment after %%EOF, which readers ignore, says its copy
#    number, so the store does not take it for a file seen before),
#    dropped in a local folder channel, then one `dropgate run --once`:
#    invoices per second from the drop to the relay (read, archived,
#    recorded, reconciled, relayed).
#
#   scripts/bench-pdf-invoices.sh                 # REPEAT=20, COPIES=50
#   REPEAT=5 COPIES=20 scripts/bench-pdf-invoices.sh
#
# Each line is JSON. Build once (`cargo build --release`); `cargo clean
# --release` afterwards when the disk is short.
set -euo pipefail
cd "$(dirname "$0")/.."
repeat="${REPEAT:-20}"
copies="${COPIES:-50}"
cargo build --release --locked --quiet --bin dropgate
bin=./target/release/dropgate

mapfile -t text_layer < <(find samples/pdf -name '*.pdf' ! -path '*/bad/*' \
    ! -path '*/reader/*' ! -name '*scanned*' | sort)
mapfile -t scanned < <(find samples/pdf -name '*scanned*.pdf' | sort)

pages_of() { pdfinfo "$1" | awk '/^Pages:/ {print $2}'; }
invoices_of() { "$bin" translate "$1" 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# run NAME TOOL FILE... : every file REPEAT times, one process each, under
# one /usr/bin/time per file; prints the rates and the highest peak RSS.
run() {
    local name="$1" tool="$2"; shift 2
    local pages=0 invoices=0 rss=0 log
    log=$(mktemp)
    for f in "$@"; do
        pages=$((pages + $(pages_of "$f") * repeat))
        invoices=$((invoices + $(invoices_of "$f") * repeat))
    done
    local start end
    start=$(date +%s.%N)
    for f in "$@"; do
        for _ in $(seq "$repeat"); do
            case "$tool" in
                dropgate) /usr/bin/time -v "$bin" translate "$f" >/dev/null 2>"$log" || true ;;
                pdftotext) /usr/bin/time -v pdftotext -layout "$f" - >/dev/null 2>"$log" || true ;;
            esac
            local kb
            kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
            [ "${kb:-0}" -gt "$rss" ] && rss="$kb"
        done
    done
    end=$(date +%s.%N)
    rm -f "$log"
    python3 -c "import json; s=$end-$start; print(json.dumps({'run':'$name','tool':'$tool','files':$#,'repeat':$repeat,'pages':$pages,'invoices':$invoices,'seconds':round(s,2),'invoices_per_s':round($invoices/s,1),'pages_per_s':round($pages/s,1),'peak_rss_mb':round($rss/1024,1)}))"
}

run text-layer dropgate "${text_layer[@]}"
run text-layer pdftotext "${text_layer[@]}"
if command -v tesseract >/dev/null && command -v pdftoppm >/dev/null; then
    repeat_saved="$repeat"
    repeat=$(( repeat < 5 ? repeat : 5 ))
    run scanned-ocr dropgate "${scanned[@]}"
    repeat="$repeat_saved"
else
    echo '{"run":"scanned-ocr","skipped":"tesseract or pdftoppm not on PATH"}'
fi

# The gateway, from a folder to the relay.
dir=bench-data/gateway-pdf
if [ -e "$dir" ]; then
    mkdir -p bench-data/trash
    mv "$dir" "bench-data/trash/gateway-pdf-$(date +%s%N)"
fi
mkdir -p "$dir/drop" "$dir/partners"
cat > "$dir/gateway.toml" <<TOML
[gateway]
data_dir = "var"
[channel.drop]
type = "dir"
path = "drop"
min_age_secs = 0
[relay]
type = "file"
path = "relay"
TOML
# One partner for the folder: every copy of an invoice has the number of
# the first, so the duplicate-bill check holds them; relayed with their
# variances here, so that every invoice goes the whole way.
cat > "$dir/partners/vendors.toml" <<TOML
[[inbound]]
channel = "drop"
patterns = ["*.pdf"]
[reconcile]
on_variance = "relay"
TOML
invoices=0
pages=0
for f in "${text_layer[@]}"; do
    n=$(invoices_of "$f")
    p=$(pages_of "$f")
    base=$(basename "$f" .pdf)
    for i in $(seq -w 1 "$copies"); do
        out="$dir/drop/$base-$i.pdf"
        cp "$f" "$out"
        printf '%%dropgate-bench copy %s\n' "$i" >> "$out"
    done
    invoices=$((invoices + n * copies))
    pages=$((pages + p * copies))
done
files=$(find "$dir/drop" -name '*.pdf' | wc -l)
sync
python3 scripts/settle-disk.py "$dir" || true
/usr/bin/time -o "$dir/time" -f "%e %M %U %S" "$bin" run --once -c "$dir/gateway.toml" \
    >"$dir/out" 2>&1 || true
read -r secs rss user sys < <(tail -1 "$dir/time")
relayed=$(cat "$dir"/relay/*.jsonl 2>/dev/null | wc -l)
python3 -c "import json; s=$secs; print(json.dumps({'run':'gateway','files':$files,'pages':$pages,'invoices':$invoices,'relayed':$relayed,'seconds':s,'user_s':$user,'sys_s':$sys,'invoices_per_s':round($relayed/s,1),'files_per_s':round($files/s,1),'pages_per_s':round($pages/s,1),'peak_rss_mb':round($rss/1024,1)}))"
