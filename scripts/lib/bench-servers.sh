# Sourced by the benchmarks of several instances and of the API: a private
# PostgreSQL and a private s3s-fs on 127.0.0.1, each on a free port, in a
# folder of the caller's, stopped when the calling script exits (also on
# an error or Ctrl-C). The same servers the tests start
# (tests/support/postgres.rs, tests/support/s3.rs), but PostgreSQL keeps
# its default durability (fsync on, synchronous_commit on), as SQLite
# keeps its own (synchronous = FULL) in the comparison. PG_OPTIONS adds
# server settings ("-c log_lock_waits=on ...").
#
#   . scripts/lib/bench-servers.sh
#   start_postgres "$PWD/bench-data/x/pg"   # then $pg_port, $pg_password_file
#   pg_create_db NAME                       # prints the database's URL
#   start_s3s_fs "$PWD/bench-data/x/s3"     # then $s3_endpoint, $s3_bucket, ...
#   bench_kill_later PID                    # one more process stopped at exit

bench_pids=()
bench_pg_stop=""

bench_cleanup() {
    local pid
    for pid in "${bench_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${bench_pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [ -n "$bench_pg_stop" ]; then
        eval "$bench_pg_stop" >/dev/null 2>&1 || true
    fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

bench_kill_later() {
    bench_pids+=("$1")
}

bench_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# PostgreSQL from Debian's package (the newest /usr/lib/postgresql/*/bin),
# or from DROPGATE_TEST_PG_BIN as for the tests.
start_postgres() {
    local dir=$1 bin as=()
    bin=${DROPGATE_TEST_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
    [ -x "$bin/initdb" ] || { echo "PostgreSQL is not installed: run scripts/setup.sh" >&2; exit 1; }
    mkdir -p "$dir/sock"
    chmod 755 "$dir"
    pg_password_file="$dir/pwfile"
    echo "bench-Pg-s3cret" > "$pg_password_file"
    if [ "$(id -u)" = 0 ]; then
        # initdb refuses root: the cluster is the postgres user's.
        chown -R postgres: "$dir"
        as=(runuser -u postgres --)
    fi
    "${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 --no-sync \
        --auth-local=trust --auth-host=scram-sha-256 --pwfile="$pg_password_file" >"$dir/initdb.log"
    pg_port=$(bench_free_port)
    "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -c port=$pg_port -c unix_socket_directories=$dir/sock -c max_connections=100 ${PG_OPTIONS:-}" >/dev/null
    bench_pg_stop="${as[*]} $bin/pg_ctl -D $dir/data -m fast -w stop"
    pg_psql=("${as[@]}" "$bin/psql" -h "$dir/sock" -p "$pg_port" -U postgres -d postgres -q)
    pg_password=$(cat "$pg_password_file")
}

pg_create_db() {
    "${pg_psql[@]}" -c "CREATE DATABASE $1" >/dev/null
    echo "postgres://postgres@127.0.0.1:$pg_port/$1"
}

# s3s-fs as scripts/lib/s3s-fs.sh installs it (built on first use).
start_s3s_fs() {
    local dir=$1
    bash "$(dirname "${BASH_SOURCE[0]}")/s3s-fs.sh"
    local program="${XDG_CACHE_HOME:-$HOME/.cache}/dropgate-tools/bin/s3s-fs"
    s3_bucket=dropgate-bench
    s3_access_key=AKDROPGATEBENCH
    s3_secret_key=dropgate-bench-secret-key
    mkdir -p "$dir/data/$s3_bucket"
    local port
    port=$(bench_free_port)
    RUST_LOG=warn "$program" --host 127.0.0.1 --port "$port" \
        --access-key "$s3_access_key" --secret-key "$s3_secret_key" "$dir/data" \
        </dev/null >"$dir/s3s-fs.log" 2>&1 &
    bench_kill_later $!
    for _ in $(seq 100); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null && break
        sleep 0.1
    done
    s3_endpoint="http://127.0.0.1:$port"
}
