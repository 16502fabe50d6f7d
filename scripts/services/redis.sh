#!/usr/bin/env bash
# A private Redis on 127.0.0.1 (no persistence) for n8n's queue mode in the e2e and CI.
#
#   scripts/services/redis.sh start <dir> [port]   prints REDIS_HOST and REDIS_PORT lines (KEY=value)
#   scripts/services/redis.sh stop <dir>
#   scripts/services/redis.sh install              apt-get installs redis-server when missing
set -euo pipefail

free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$(( 20000 + RANDOM % 20000 ))
		if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return; fi
	done
	echo "no free port found" >&2; return 1
}

cmd="${1:-}"
case "$cmd" in
install)
	command -v redis-server >/dev/null 2>&1 && exit 0
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends redis-server >/dev/null
	;;
start)
	dir="${2:?usage: redis.sh start <dir> [port]}"
	port="${3:-$(free_port)}"
	command -v redis-server >/dev/null 2>&1 || { echo "redis-server is not installed (scripts/services/redis.sh install)" >&2; exit 1; }
	mkdir -p "$dir/redis"
	dir="$(cd "$dir" && pwd)"
	redis-server --bind 127.0.0.1 --port "$port" --dir "$dir/redis" --save '' --appendonly no \
		--daemonize yes --pidfile "$dir/redis/pid" --logfile "$dir/redis/log"
	for _ in $(seq 1 100); do
		if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then break; fi
		sleep 0.05
	done
	(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null || { tail -20 "$dir/redis/log" >&2; exit 1; }
	echo "REDIS_HOST=127.0.0.1"
	echo "REDIS_PORT=$port"
	;;
stop)
	dir="${2:?usage: redis.sh stop <dir>}"
	pidfile="$dir/redis/pid"
	[[ -f "$pidfile" ]] || exit 0
	pid="$(cat "$pidfile")"
	# only the process this script started (its pid file), and only while it is redis-server
	if [[ -r /proc/$pid/comm ]] && grep -q redis-server "/proc/$pid/comm"; then
		kill "$pid"
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	fi
	rm -f "$pidfile"
	;;
*)
	echo "usage: $0 install | start <dir> [port] | stop <dir>" >&2; exit 2
	;;
esac
