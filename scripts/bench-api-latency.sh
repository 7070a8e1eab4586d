#!/usr/bin/env bash
# The API's latency while a large file is processed: one gateway with
# `[api]` on a free loopback port, on the embedded store (SQLite, local
# archive), then on PostgreSQL with the archive in a bucket (a private
# PostgreSQL and s3s-fs on 127.0.0.1, started here). A MB-sized X12 file
# of 850s from Acme (scripts/bench_inputs.py, 200 MB by default: over
# stream_over_mb, so it is streamed through the archive; Acme gets a 997)
# is moved into the drop, and one client (scripts/bench_api_latency.py)
# times GET /healthz and POST /v1/purchase-orders in turn, one request at
# a time, each kind every 2 * INTERVAL_MS (10 ms by default), before the
# drop and in each phase of the file: p50, p90, p99 and max, and p99
# corrected for coordinated omission (see the helper), one JSON line
# per phase. Target: p99 under 50 ms while the file is translated.
#
#   scripts/bench-api-latency.sh
#   MB=50 STORES=sqlite scripts/bench-api-latency.sh
#   PO_PARTNER=zeta scripts/bench-api-latency.sh   # the orders to another partner
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${MB:-200}"
stores="${STORES:-sqlite pg}"
cargo build --release --locked --quiet --bin dropgate
mkdir -p bench-data
python3 scripts/bench_inputs.py "$mb" bench-data
# The same orders, sent by Acme (ISA05/06 and GS02/03 swapped).
big="bench-data/850-${mb}M-from-acme.edi"
if [ ! -f "$big" ]; then
    python3 - "bench-data/850-${mb}M.edi" "$big.part" <<'PY'
import shutil, sys
with open(sys.argv[1], "rb") as src, open(sys.argv[2], "wb") as dst:
    isa, gs = src.readline(), src.readline()
    dst.write(isa.replace(b"ZZ*RETAILERID     *ZZ*VENDORID       ", b"ZZ*VENDORID       *ZZ*RETAILERID     "))
    dst.write(gs.replace(b"GS*PO*RETAILERID*VENDORID", b"GS*PO*VENDORID*RETAILERID"))
    shutil.copyfileobj(src, dst, 1 << 20)
PY
    mv "$big.part" "$big"
fi
big=$(cd "$(dirname "$big")" && pwd)/$(basename "$big")
dir=bench-data/api
if [ -e "$dir" ]; then
    mkdir -p bench-data/trash
    mv "$dir" "bench-data/trash/api-$(date +%s%N)"
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
. scripts/lib/bench-servers.sh
stop_daemons() {
    local f
    for f in "$dir"/*/pids; do
        [ -f "$f" ] && xargs -r kill <"$f" 2>/dev/null || true
    done
    bench_cleanup
}
trap stop_daemons EXIT
case " $stores " in
*" pg "*)
    # Every wait for a lock over 20 ms, and every statement over 50 ms, is
    # logged (with what it waited for) in $dir/pg/server.log
    # (PG_LOG_MIN_MS=0: every statement, with its duration).
    PG_OPTIONS="-c log_lock_waits=on -c deadlock_timeout=20ms -c log_min_duration_statement=${PG_LOG_MIN_MS:-50}" \
        start_postgres "$dir/pg"
    start_s3s_fs "$dir/s3"
    export BENCH_PG_PASSWORD="$pg_password" BENCH_S3_ENDPOINT="$s3_endpoint" BENCH_S3_BUCKET="$s3_bucket" \
        BENCH_S3_KEY="$s3_access_key" BENCH_S3_SECRET="$s3_secret_key"
    ;;
esac
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $big" >&2
n=0
for store in $stores; do
    n=$((n + 1))
    url=sqlite
    [ "$store" = pg ] && url=$(pg_create_db "bench_api_$n")
    sync
    python3 scripts/settle-disk.py "$dir" >/dev/null
    python3 scripts/bench_api_latency.py "$dir" "$n-$store" "$url" "$big"
done
