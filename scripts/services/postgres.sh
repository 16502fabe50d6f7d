#!/usr/bin/env bash
# A private PostgreSQL cluster on 127.0.0.1 for tests, CI and the queue-mode e2e.
#
#   scripts/services/postgres.sh start <dir> [port]   prints PG* and PROFILE_STORE_PG_URL lines (KEY=value)
#   scripts/services/postgres.sh stop <dir>
#   scripts/services/postgres.sh install              apt-get installs postgresql when missing
#
# Data and log live under <dir>/pg. Trust authentication on 127.0.0.1 only, superuser
# `profiles`, database `profiles`. fsync and synchronous_commit stay ON (the default: an acknowledged
# commit is on disk); PG_FAST=1 turns them off for throwaway runs. initdb and postgres refuse to run
# as root: as root they run as the `postgres` user.
set -euo pipefail

PG_MAJOR="${PG_MAJOR:-15}"
find_bin() {
	if [[ -n "${PGBIN:-}" && -x "$PGBIN/pg_ctl" ]]; then echo "$PGBIN"; return; fi
	local d
	for d in /usr/lib/postgresql/"$PG_MAJOR"/bin /usr/lib/postgresql/*/bin; do
		[[ -x "$d/pg_ctl" ]] && { echo "$d"; return; }
	done
	command -v pg_ctl >/dev/null 2>&1 && { dirname "$(command -v pg_ctl)"; return; }
	return 1
}

free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$(( 20000 + RANDOM % 20000 ))
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return; fi
	done
	echo "no free port found" >&2; return 1
}

as_pg() {
	if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd="${1:-}"
case "$cmd" in
install)
	if find_bin >/dev/null; then exit 0; fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends postgresql >/dev/null
	find_bin >/dev/null
	;;
start)
	dir="${2:?usage: postgres.sh start <dir> [port]}"
	port="${3:-$(free_port)}"
	bin="$(find_bin)" || { echo "PostgreSQL is not installed (scripts/services/postgres.sh install)" >&2; exit 1; }
	mkdir -p "$dir/pg"
	dir="$(cd "$dir" && pwd)"
	if [[ $(id -u) -eq 0 ]]; then
		chown postgres: "$dir/pg"
		# the postgres user must reach <dir>/pg: open the path's directories for traversal
		d="$dir"; while [[ "$d" != "/" ]]; do chmod o+x "$d" 2>/dev/null || true; d="$(dirname "$d")"; done
	fi
	if [[ ! -f "$dir/pg/data/PG_VERSION" ]]; then
		as_pg "$bin/initdb" -D "$dir/pg/data" -U profiles --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/pg/initdb.log" 2>&1 \
			|| { cat "$dir/pg/initdb.log" >&2; exit 1; }
	fi
	# TCP on 127.0.0.1 only: no Unix socket (its path would be too long under deep temporary folders).
	opts="-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='' -c max_connections=${PG_MAX_CONNECTIONS:-200}"
	if [[ "${PG_FAST:-}" == 1 ]]; then opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"; fi
	as_pg "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" -w -t 60 -o "$opts" start >/dev/null \
		|| { tail -20 "$dir/pg/log" >&2; exit 1; }
	echo "$port" >"$dir/pg/port"
	"$bin/psql" -h 127.0.0.1 -p "$port" -U profiles -d postgres -qAtc "SELECT 1 FROM pg_database WHERE datname='profiles'" | grep -q 1 \
		|| "$bin/createdb" -h 127.0.0.1 -p "$port" -U profiles profiles
	echo "PGHOST=127.0.0.1"
	echo "PGPORT=$port"
	echo "PGUSER=profiles"
	echo "PGDATABASE=profiles"
	echo "PGBIN=$bin"
	echo "PROFILE_STORE_PG_URL=postgres://profiles@127.0.0.1:$port/profiles"
	;;
stop)
	dir="${2:?usage: postgres.sh stop <dir>}"
	[[ -f "$dir/pg/data/postmaster.pid" ]] || exit 0
	bin="$(find_bin)"
	as_pg "$bin/pg_ctl" -D "$dir/pg/data" -m fast -w -t 60 stop >/dev/null || true
	;;
*)
	echo "usage: $0 install | start <dir> [port] | stop <dir>" >&2; exit 2
	;;
esac
