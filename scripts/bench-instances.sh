#!/usr/bin/env bash
# Several instances against one: files and documents per second of one
# gateway on the embedded store (SQLite, local archive) and of one, two
# and three instances of `dropgate run` on one PostgreSQL and one bucket
# (a private PostgreSQL and s3s-fs on 127.0.0.1, started here), in one
# run. Each setup gets its own data directories, database and bucket
# prefix; FILES small X12 files from Acme (ORDERS 850s each, a 997 each)
# are moved at once into the drop, and the time until every file is
# processed, relayed (the file relay) and acknowledged is measured. One
# JSON line per setup (scripts/bench_instances.py): files/s, documents/s,
# the machine's CPU use, each instance's CPU time and peak RSS (VmHWM),
# and which leases each instance held.
#
# The time is counted from the first file taken off the drop (the wait
# for the next poll, up to poll_interval_secs = 1, is left out; the JSON
# has the time from the drop too).
#
# First with one drop channel: a channel is polled by one instance at a
# time (its lease), so more instances are not expected to add anything.
# PostgreSQL is measured with the archive in data_dir too ("local": one
# instance only), to tell the store's cost from the bucket's. Then with
# the files split among CHANNELS drop channels, with the leases as they
# fall (the instances started together), and with the channels pinned,
# instance i polling only its own (its own partner file).
#
#   scripts/bench-instances.sh                   # 1,000 files of 3 orders
#   FILES=2000 ORDERS=1 CHANNELS=3 scripts/bench-instances.sh
#   SETUPS="pg:3:3:pinned pg:1:1:local" scripts/bench-instances.sh   # store:instances:channels[:flags]
set -euo pipefail
cd "$(dirname "$0")/.."
files="${FILES:-1000}"
per_file="${ORDERS:-3}"
chans="${CHANNELS:-3}"
setups="${SETUPS:-sqlite:1:1 pg:1:1:local pg:1:1 pg:2:1 pg:3:1 sqlite:1:$chans pg:1:$chans pg:2:$chans pg:3:$chans pg:3:$chans:pinned}"
cargo build --release --locked --quiet --bin dropgate
# The previous run is moved aside, not deleted (see scripts/settle-disk.py).
dir=bench-data/instances
if [ -e "$dir" ]; then
    mkdir -p bench-data/trash
    mv "$dir" "bench-data/trash/instances-$(date +%s%N)"
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
. scripts/lib/bench-servers.sh
start_postgres "$dir/pg"
start_s3s_fs "$dir/s3"
# A daemon left by a killed helper is stopped too.
stop_daemons() {
    local f
    for f in "$dir"/*/pids; do
        [ -f "$f" ] && xargs -r kill <"$f" 2>/dev/null || true
    done
    bench_cleanup
}
trap stop_daemons EXIT
export BENCH_PG_PASSWORD="$pg_password" BENCH_S3_ENDPOINT="$s3_endpoint" BENCH_S3_BUCKET="$s3_bucket" \
    BENCH_S3_KEY="$s3_access_key" BENCH_S3_SECRET="$s3_secret_key"
echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $files files of $per_file orders; PostgreSQL $("${pg_psql[@]}" -tAc 'SHOW server_version') on port $pg_port, s3s-fs at $s3_endpoint" >&2
n=0
for setup in $setups; do
    n=$((n + 1))
    IFS=: read -r store instances channels flags <<<"$setup"
    name="$n-$store-$instances-of-$channels${flags:+-${flags/,/-}}"
    url=sqlite
    [ "$store" = pg ] && url=$(pg_create_db "bench_$n")
    sync
    python3 scripts/settle-disk.py "$dir" >/dev/null
    python3 scripts/bench_instances.py "$dir" "$name" "$url" "$instances" "$channels" "$files" "$per_file" "${flags:-}"
done
