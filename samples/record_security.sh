#!/usr/bin/env bash
# Record the captures of samples/security/ that come from real SIP software
# on the loopback interface (the other files there are crafted by
# craft_security.py):
#   scanner-friendly-scanner.pcap  a scanner (SIPp UAC, User-Agent
#       friendly-scanner) probes a PBX (SIPp UAS): OPTIONS, REGISTER without
#       credentials, then INVITEs to extensions 100..129, one every 50 ms;
#   scanner-no-agent.pcap  the same enumeration of 100..119 at two probes a
#       second, with an ordinary softphone User-Agent;
#   brute-force-register.pcap  20 password guesses for account 1001, one a
#       second: each REGISTER challenged 401, its retry with the digest of
#       a wrong password refused 403 by a SIPp registrar that checks it.
# Scenarios: samples/scenarios/scan-*.xml and brute-*.xml.
#
# Usage:  bash samples/record_security.sh [NAME ...]
#         (NAME = scanner-friendly-scanner, scanner-no-agent,
#         brute-force-register; default: all three)
#         KEEP_WORK=1 keeps the SIPp and tcpdump logs.
#
# Needs root (tcpdump), and the Debian packages sip-tester, tcpdump and
# tshark.  All traffic stays on 127.0.0.1, every program runs under
# `timeout`, and every background process is stopped on exit (trap, see
# recording.sh).  After each recording the SIP messages are read back with
# tshark and compared with what the scenario must produce; the script fails
# if they differ, and the previous file is then left in place.
#
# Generated for sipdiag, CC0.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCN="$HERE/scenarios"
OUT="$HERE/security"

# Ports (all on 127.0.0.1)
PBX_PORT=5060        # SIPp UAS: the PBX that is scanned, the registrar of 1001
UAC_PORT=5080        # SIPp UAC: the scanner, the password guesser
ALL_PORTS=("$PBX_PORT" "$UAC_PORT")
# recording.sh's Kamailio is not used here
KAM_CFG=""
PROXY_PORT=""

SCANNER_AGENT="friendly-scanner"
SOFTPHONE_AGENT="Z 5.4.12 v2.10.19.9"
GUESSER_AGENT="Z 5.4.12 v2.10.19.9"
# the extensions that exist on the PBX are in scan-uas.xml: 103 111 117 124
EXISTING=" 103 111 117 124 "
# the registrar's password of 1001, and the guesses (none of them right)
PASSWORD="Vq7-tarn-81-Lodge"
GUESSES=(1001 1234 12345 123456 1234567 12345678 0000 1111 2222 9999
	password pass admin secret 1001pass qwerty abc123 100100 101010 changeme)

for tool in sipp tcpdump tshark timeout ss; do
	command -v "$tool" >/dev/null || { echo "record_security.sh: $tool is not installed" >&2; exit 1; }
done
if [ "$(id -u)" -ne 0 ]; then
	echo "record_security.sh: must run as root (tcpdump on lo)" >&2
	exit 1
fi

WORK="$(mktemp -d /tmp/sipdiag-record-security.XXXXXX)"
SCRIPT=record_security.sh
# shellcheck source=recording.sh
source "$HERE/recording.sh"

FILTER="udp and (port $PBX_PORT or port $UAC_PORT)"
UAC_LEG="udp.port == $UAC_PORT"

pbx() {  # pbx SCENARIO CALLS [extra sipp args]: the SIPp UAS, in the background
	local scen="$1" calls="$2"
	shift 2
	bg 90 "$WORK/uas-$NAME.log" \
		sipp -sf "$SCN/$scen" -i 127.0.0.1 -p "$PBX_PORT" -m "$calls" -nostdin \
		-trace_err -error_file "$WORK/uas-$NAME.errors" "$@"
	wait_port udp "$PBX_PORT"
}

uac() {  # uac SCENARIO WHAT [extra sipp args]: the SIPp UAC, in the foreground
	local scen="$1" what="$2"
	shift 2
	run_wait 90 "$WORK/uac-$NAME-$what.log" \
		sipp "127.0.0.1:$PBX_PORT" -sf "$SCN/$scen" -i 127.0.0.1 -p "$UAC_PORT" \
		-nostdin -trace_err -error_file "$WORK/uac-$NAME-$what.errors" \
		-cid_str "$NAME-$what-%u@%s" "$@"
}

injection() {  # injection FILE LINE...: a SIPp injection file read in order
	local file="$1"
	shift
	{ echo SEQUENTIAL; printf '%s;\n' "$@"; } >"$file"
}

# scan FIRST LAST RATE AGENT: OPTIONS, REGISTER, then one INVITE per
# extension FIRST..LAST, RATE a second, all from 127.0.0.1:5080
scan() {
	local first="$1" last="$2" rate="$3" agent="$4" ext want="OPTIONS 200 REGISTER 401"
	local n=$((last - first + 1))
	# shellcheck disable=SC2046
	injection "$WORK/extensions.csv" $(seq "$first" "$last")
	start_capture "$FILTER"
	pbx scan-uas.xml $((n + 2)); local u=$LAST_PID
	uac scan-uac-options.xml options -m 1 -key agent "$agent"
	uac scan-uac-register.xml register -m 1 -key agent "$agent"
	uac scan-uac-invite.xml invite -inf "$WORK/extensions.csv" -m "$n" -r "$rate" -rp 1000 \
		-key agent "$agent"
	wait_bg "$u"
	stop_capture
	for ext in $(seq "$first" "$last"); do
		case "$EXISTING" in
		*" $ext "*) want+=" INVITE 401 ACK" ;;
		*) want+=" INVITE 404 ACK" ;;
		esac
	done
	expect "$UAC_LEG" "$want"
}

rec_scanner_friendly_scanner() {
	scan 100 129 20 "$SCANNER_AGENT"
}

rec_scanner_no_agent() {
	scan 100 119 2 "$SOFTPHONE_AGENT"
}

rec_brute_force_register() {
	local guess lines=() want=""
	for guess in "${GUESSES[@]}"; do
		lines+=("[authentication username=1001 password=$guess]")
		want+="${want:+ }REGISTER 401 REGISTER 403"
	done
	injection "$WORK/guesses.csv" "${lines[@]}"
	start_capture "$FILTER"
	pbx brute-uas-registrar.xml "${#GUESSES[@]}" -key password "$PASSWORD"; local u=$LAST_PID
	uac brute-uac-register.xml guess -inf "$WORK/guesses.csv" -m "${#GUESSES[@]}" -r 1 -rp 1000 \
		-key agent "$GUESSER_AGENT"
	wait_bg "$u"
	stop_capture
	expect "$UAC_LEG" "$want"
}

summary() {
	log "$NAME: $(stat -c %s "$OUT/$NAME.pcap") bytes, $(tshark -r "$OUT/$NAME.pcap" -q -z sip,stat 2>/dev/null | sed -n 's/^Number of SIP messages: //p') SIP messages, $(tshark -r "$OUT/$NAME.pcap" -Y sip -T fields -e frame.time_relative 2>/dev/null | tail -1) s"
}

ALL=(scanner-friendly-scanner scanner-no-agent brute-force-register)

if [ "$#" -gt 0 ]; then
	TODO=("$@")
else
	TODO=("${ALL[@]}")
fi

cd "$WORK"
log "sipp: $(sipp -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -1)"
log "tcpdump: $(tcpdump --version 2>&1 | head -1)"
log "work dir: $WORK"

for NAME in "${TODO[@]}"; do
	fn="rec_${NAME//-/_}"
	if ! declare -F "$fn" >/dev/null; then
		echo "record_security.sh: unknown capture '$NAME' (known: ${ALL[*]})" >&2
		exit 2
	fi
	check_ports_free
	log "recording $NAME"
	"$fn"
	publish
	summary
done
log "done: ${TODO[*]}"
