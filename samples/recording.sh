# Shared by record.sh and record_media.sh (sourced, not run): background
# programs under `timeout`, stopped on exit; the Kamailio proxy; tcpdump on
# lo; checks of the SIP sequence of a new capture; publishing it to $OUT.
#
# The sourcing script sets SCRIPT (its name, for messages), WORK, OUT,
# KAM_CFG, PROXY_PORT and ALL_PORTS, and may define before_cleanup.
#
# Generated for sipdiag, CC0.

BG_PIDS=()          # background processes still running (timeout wrappers)
KAM_PID=""
CAP_PID=""
CAP_FILE=""

log() { printf '== %s\n' "$*" >&2; }

# forget PID: drop a reaped process from BG_PIDS (so that cleanup never
# signals a recycled process id)
forget() {
	local keep=() p
	for p in "${BG_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	BG_PIDS=("${keep[@]}")
}

# stop_pid PID: TERM (timeout forwards it to its child), then KILL.
stop_pid() {
	local pid="$1" i
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" 2>/dev/null || true
		forget "$pid"
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		pkill -KILL -P "$pid" 2>/dev/null || true
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	forget "$pid"
}

cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	if declare -F before_cleanup >/dev/null; then before_cleanup; fi
	for pid in "${BG_PIDS[@]}"; do
		[ -n "$pid" ] && stop_pid "$pid"
	done
	if [ "$rc" -ne 0 ]; then
		echo "$SCRIPT: failed (rc=$rc); logs kept in $WORK" >&2
	elif [ -n "${KEEP_WORK:-}" ]; then
		echo "$SCRIPT: logs kept in $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bg() {  # bg SECONDS LOGFILE CMD... : run CMD under timeout in the background
	local secs="$1" logf="$2"
	shift 2
	timeout "$secs" "$@" >"$logf" 2>&1 &
	BG_PIDS+=("$!")
	LAST_PID=$!
}

run_wait() {  # run_wait SECONDS LOGFILE CMD... : like bg but wait for it; the wait
	# (unlike a plain foreground command) lets INT/TERM traps run at once
	bg "$@"
	local pid=$LAST_PID rc=0
	wait "$pid" || rc=$?
	forget "$pid"
	return "$rc"
}

port_busy() {  # port_busy PORT: does anything listen on it (udp or tcp)?
	[ -n "$(ss -Hlnu "sport = :$1")$(ss -Hlnt "sport = :$1")" ]
}

wait_port() {  # wait_port PROTO PORT: until something listens there
	local proto="$1" port="$2" i
	for i in $(seq 1 50); do
		if [ "$proto" = udp ]; then
			[ -n "$(ss -Hlnu "sport = :$port")" ] && return 0
		else
			[ -n "$(ss -Hlnt "sport = :$port")" ] && return 0
		fi
		sleep 0.1
	done
	echo "$SCRIPT: nothing listening on $proto port $port" >&2
	return 1
}

check_ports_free() {
	local p
	for p in "${ALL_PORTS[@]}"; do
		if port_busy "$p"; then
			echo "$SCRIPT: port $p is in use on this machine; stop whatever uses it" >&2
			exit 1
		fi
	done
}

start_kamailio() {  # start_kamailio [-A DEFINE ...]
	mkdir -p "$WORK/kamailio-run"
	bg 300 "$WORK/kamailio-$NAME.log" \
		kamailio -f "$KAM_CFG" -DD -E -m 32 -M 8 -Y "$WORK/kamailio-run" "$@"
	KAM_PID=$LAST_PID
	wait_port udp "$PROXY_PORT"
}

stop_kamailio() {
	if [ -n "$KAM_PID" ]; then
		stop_pid "$KAM_PID"
		KAM_PID=""
	fi
}

start_capture() {  # start_capture FILTER
	CAP_FILE="$WORK/$NAME.pcap"
	bg 120 "$WORK/tcpdump-$NAME.log" \
		tcpdump -i lo -s 0 -U --immediate-mode -n -Z root -w "$CAP_FILE" "$1"
	CAP_PID=$LAST_PID
	local i
	for i in $(seq 1 50); do
		grep -q "listening on" "$WORK/tcpdump-$NAME.log" 2>/dev/null && break
		sleep 0.1
	done
	grep -q "listening on" "$WORK/tcpdump-$NAME.log" || { echo "$SCRIPT: tcpdump did not start" >&2; cat "$WORK/tcpdump-$NAME.log" >&2; return 1; }
	sleep 0.2
}

stop_capture() {
	sleep 0.5
	stop_pid "$CAP_PID"
	CAP_PID=""
}

publish() {  # copy the verified capture into $OUT
	mkdir -p "$OUT"
	cp "$CAP_FILE" "$OUT/$NAME.pcap"
	chmod 644 "$OUT/$NAME.pcap"
}

wait_bg() {  # wait_bg PID: wait for a background program to finish, report failure
	local rc=0
	wait "$1" || rc=$?
	forget "$1"
	if [ "$rc" -ne 0 ]; then
		log "warning: $NAME: background process $1 exited with $rc (see $WORK)"
	fi
}

# sip_seq FILE DISPLAYFILTER: space separated SIP methods / status codes
sip_seq() {
	tshark -r "$1" -Y "sip && ($2)" -T fields -e sip.Method -e sip.Status-Code 2>/dev/null |
		tr -s '\t' ' ' | sed 's/^ //; s/ $//' | tr '\n' ' ' | sed 's/ $//'
}

# expect DISPLAYFILTER "EXPECTED SEQUENCE" ["ALTERNATIVE" ...]: verify the
# SIP messages of one leg of the new capture
expect() {
	local filter="$1" got want
	shift
	got="$(sip_seq "$CAP_FILE" "$filter")"
	for want in "$@"; do
		if [ "$got" = "$want" ]; then
			log "$NAME: [$filter] $got"
			return 0
		fi
	done
	echo "$SCRIPT: $NAME: unexpected SIP sequence on [$filter]" >&2
	for want in "$@"; do
		echo "  expected: $want" >&2
	done
	echo "  got:      $got" >&2
	return 1
}
