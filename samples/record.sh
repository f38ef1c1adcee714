#!/usr/bin/env bash
# Record the sipdiag sample captures in samples/calls/ from real SIP
# software talking over the loopback interface:
#   SIPp 3.6.1 (UAC and UAS, scenarios in samples/scenarios/),
#   Kamailio 5.6 as a stateful proxy (samples/kamailio/kamailio.cfg),
#   baresip 1.0 as a real user agent (samples/baresip/),
# each call captured by tcpdump on lo into its own pcap.
#
# Usage:  bash samples/record.sh [NAME ...]
#         (NAME = basic-call, busy, ...; default: every scenario)
#         KEEP_WORK=1 keeps the SIPp / Kamailio / baresip logs.
#
# Needs root (tcpdump), and the Debian packages sip-tester, kamailio,
# baresip, tcpdump and tshark.  All traffic stays on 127.0.0.1 / ::1,
# every program runs under `timeout`, and every background process is
# stopped on exit (trap).  After each recording the SIP messages are read
# back with tshark and compared with the expected sequence; the script
# fails if a scenario did not happen as intended.
#
# Generated for sipdiag, CC0.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCN="$HERE/scenarios"
OUT="$HERE/calls"
KAM_CFG="$HERE/kamailio/kamailio.cfg"
BARESIP_CFG="$HERE/baresip"

# Ports (all on loopback)
PROXY_PORT=5060      # Kamailio
UAS_PORT=5070        # SIPp UAS
UAS2_PORT=5072       # second SIPp UAS (redirect target)
UAC_PORT=5080        # SIPp UAC
BARESIP_PORT=5090    # baresip
ALL_PORTS=("$PROXY_PORT" "$UAS_PORT" "$UAS2_PORT" "$UAC_PORT" "$BARESIP_PORT")

for tool in sipp kamailio baresip tcpdump tshark timeout ss; do
	command -v "$tool" >/dev/null || { echo "record.sh: $tool is not installed" >&2; exit 1; }
done
if [ "$(id -u)" -ne 0 ]; then
	echo "record.sh: must run as root (tcpdump on lo)" >&2
	exit 1
fi

WORK="$(mktemp -d /tmp/sipdiag-record.XXXXXX)"
SCRIPT=record.sh
# shellcheck source=recording.sh
source "$HERE/recording.sh"

# SIPp runners.  Each call gets a readable, stable Call-ID: NAME-N@IP.
sipp_uas() {  # sipp_uas SCENARIO PORT [extra sipp args]
	local scen="$1" port="$2"
	shift 2
	bg 90 "$WORK/uas-$NAME-$port.log" \
		sipp -sf "$SCN/$scen" -i 127.0.0.1 -p "$port" -m 1 -nostdin -trace_err "$@"
	wait_port udp "$port"
}

sipp_uac() {  # sipp_uac SCENARIO TARGET [extra sipp args]; foreground
	local scen="$1" target="$2"
	shift 2
	run_wait 90 "$WORK/uac-$NAME.log" \
		sipp "$target" -sf "$SCN/$scen" -i 127.0.0.1 -p "$UAC_PORT" \
		-s bob -m 1 -nostdin -trace_err -cid_str "$NAME-%u@%s" "$@"
}

summary() {
	tshark -r "$OUT/$NAME.pcap" -Y sip -T fields -e frame.number \
		-e sip.Method -e sip.Status-Code -e sip.Call-ID 2>/dev/null | sed 's/^/    /' >&2
	log "$NAME: $(stat -c %s "$OUT/$NAME.pcap") bytes, $(tshark -r "$OUT/$NAME.pcap" -q -z sip,stat 2>/dev/null | sed -n 's/^Number of SIP messages: //p') SIP messages"
}

UDP_FILTER="udp and (port $PROXY_PORT or port $UAS_PORT or port $UAS2_PORT or port $UAC_PORT)"
UAC_LEG="udp.port == $UAC_PORT"
UAS_LEG="udp.port == $UAS_PORT"

# --------------------------------------------------------------------------
# Scenarios

rec_basic_call() {  # UAC -> Kamailio -> UAS, Record-Route, 3 s of call
	start_kamailio
	start_capture "$UDP_FILTER"
	sipp_uas uas-call.xml "$UAS_PORT"; local u=$LAST_PID
	sipp_uac uac-call.xml "127.0.0.1:$PROXY_PORT" -d 3000
	wait_bg "$u"
	stop_capture
	stop_kamailio
	expect "$UAC_LEG" "INVITE 100 180 200 ACK BYE 200"
	expect "$UAS_LEG" "INVITE 100 180 200 ACK BYE 200"
}

rec_cancelled_call() {  # caller hangs up while ringing
	start_kamailio
	start_capture "$UDP_FILTER"
	sipp_uas uas-cancel.xml "$UAS_PORT"; local u=$LAST_PID
	sipp_uac uac-cancel.xml "127.0.0.1:$PROXY_PORT" -d 2000
	wait_bg "$u"
	stop_capture
	stop_kamailio
	expect "$UAC_LEG" "INVITE 100 180 CANCEL 200 487 ACK"
	expect "$UAS_LEG" "INVITE 100 180 CANCEL 200 487 ACK"
}

rec_busy() {  # 486 Busy Here, ACKed hop by hop by the proxy
	start_kamailio
	start_capture "$UDP_FILTER"
	sipp_uas uas-busy.xml "$UAS_PORT"; local u=$LAST_PID
	sipp_uac uac-busy.xml "127.0.0.1:$PROXY_PORT"
	wait_bg "$u"
	stop_capture
	stop_kamailio
	expect "$UAC_LEG" "INVITE 100 486 ACK"
	expect "$UAS_LEG" "INVITE 100 486 ACK"
}

rec_auth_challenge() {  # Kamailio challenges the INVITE (407), digest retry
	start_kamailio -A WITH_AUTH
	start_capture "$UDP_FILTER"
	sipp_uas uas-call.xml "$UAS_PORT"; local u=$LAST_PID
	# digest uri = the Request-URI (SIPp defaults to sip:remote_ip:port)
	sipp_uac uac-auth-call.xml "127.0.0.1:$PROXY_PORT" -d 2000 \
		-auth_uri "bob@127.0.0.1:$PROXY_PORT"
	wait_bg "$u"
	stop_capture
	stop_kamailio
	expect "$UAC_LEG" "INVITE 407 ACK INVITE 100 180 200 ACK BYE 200"
	expect "$UAS_LEG" "INVITE 100 180 200 ACK BYE 200"
}

rec_register() {  # REGISTER, 401, REGISTER with credentials, 200
	start_kamailio
	start_capture "$UDP_FILTER"
	sipp_uac uac-register.xml "127.0.0.1:$PROXY_PORT"
	stop_capture
	stop_kamailio
	expect "$UAC_LEG" "REGISTER 401 REGISTER 200"
}

rec_no_ack_32s() {  # direct UAC -> UAS; the 200 is never ACKed
	start_capture "$UDP_FILTER"
	sipp_uas uas-no-ack.xml "$UAS_PORT"; local u=$LAST_PID
	sipp_uac uac-no-ack.xml "127.0.0.1:$UAS_PORT"
	wait_bg "$u"
	stop_capture
	expect "$UAS_LEG" "INVITE 100 180 200 200 200 200 200 200 200 200 200 200 200 BYE 200"
}

rec_bye_481() {  # the callee has lost the dialog: BYE -> 481
	start_kamailio
	start_capture "$UDP_FILTER"
	sipp_uas uas-bye-481.xml "$UAS_PORT"; local u=$LAST_PID
	sipp_uac uac-call.xml "127.0.0.1:$PROXY_PORT" -d 2000
	wait_bg "$u"
	stop_capture
	stop_kamailio
	expect "$UAC_LEG" "INVITE 100 180 200 ACK BYE 481"
	expect "$UAS_LEG" "INVITE 100 180 200 ACK BYE 481"
}

rec_redirect_302() {  # 302 from the UAS on 5070, new INVITE to 5072
	start_kamailio
	start_capture "$UDP_FILTER"
	sipp_uas uas-redirect.xml "$UAS_PORT" -key redirect_to "sip:bob@127.0.0.1:$UAS2_PORT"; local u1=$LAST_PID
	sipp_uas uas-call.xml "$UAS2_PORT"; local u2=$LAST_PID
	sipp_uac uac-redirect.xml "127.0.0.1:$PROXY_PORT" -d 2000
	wait_bg "$u1"
	wait_bg "$u2"
	stop_capture
	stop_kamailio
	expect "$UAC_LEG" "INVITE 100 302 ACK INVITE 100 180 200 ACK BYE 200"
	expect "$UAS_LEG" "INVITE 302 ACK"
	expect "udp.port == $UAS2_PORT" "INVITE 100 180 200 ACK BYE 200"
}

rec_options_keepalive() {  # 3 answered OPTIONS, then the peer goes silent
	start_kamailio
	start_capture "$UDP_FILTER"
	# one OPTIONS every 2 s, answered by the proxy
	sipp_uac uac-options.xml "127.0.0.1:$PROXY_PORT" -m 3 -r 1 -rp 2000 \
		-key ruri "sip:127.0.0.1:$PROXY_PORT" -cid_str "$NAME-ok-%u@%s"
	sleep 1
	# two more, 2 s apart, silently dropped: each is retransmitted (T1
	# doubling, capped at T2) until SIPp gives up at 31.5 s (10 copies;
	# SIPp does not send the 11th copy at timer F).  SIPp reports these
	# two calls as failed, which is the point.
	sipp_uac uac-options.xml "127.0.0.1:$PROXY_PORT" -m 2 -l 2 -r 1 -rp 2000 \
		-key ruri "sip:blackhole@127.0.0.1:$PROXY_PORT" -cid_str "$NAME-lost-%u@%s" || true
	stop_capture
	stop_kamailio
	expect "$UAC_LEG && sip.Call-ID contains \"-ok-\"" "OPTIONS 200 OPTIONS 200 OPTIONS 200"
	expect "$UAC_LEG && sip.Call-ID == \"$NAME-lost-1@127.0.0.1\"" \
		"OPTIONS OPTIONS OPTIONS OPTIONS OPTIONS OPTIONS OPTIONS OPTIONS OPTIONS OPTIONS"
	expect "$UAC_LEG && sip.Call-ID == \"$NAME-lost-2@127.0.0.1\"" \
		"OPTIONS OPTIONS OPTIONS OPTIONS OPTIONS OPTIONS OPTIONS OPTIONS OPTIONS OPTIONS"
}

rec_tcp_call() {  # direct UAC -> UAS over TCP, with the TCP handshake
	start_capture "tcp and port $UAS_PORT"
	bg 90 "$WORK/uas-$NAME.log" sipp -sf "$SCN/uas-call.xml" -t t1 -i 127.0.0.1 -p "$UAS_PORT" \
		-m 1 -nostdin -trace_err
	local u=$LAST_PID
	wait_port tcp "$UAS_PORT"
	sipp_uac uac-call.xml "127.0.0.1:$UAS_PORT" -t t1 -d 2000
	# the UAC closes the connection while the UAS lingers after the BYE,
	# so SIPp counts the UAS call as failed: expected, not reported
	wait "$u" || true
	forget "$u"
	stop_capture
	expect "tcp.port == $UAS_PORT" "INVITE 100 180 200 ACK BYE 200"
}

rec_ipv6_call() {  # direct UAC -> UAS over UDP on ::1
	start_capture "ip6 and udp and (port $UAS_PORT or port $UAC_PORT)"
	bg 90 "$WORK/uas-$NAME.log" sipp -sf "$SCN/uas-call.xml" -i ::1 -p "$UAS_PORT" \
		-m 1 -nostdin -trace_err
	local u=$LAST_PID
	wait_port udp "$UAS_PORT"
	run_wait 90 "$WORK/uac-$NAME.log" \
		sipp "[::1]:$UAS_PORT" -sf "$SCN/uac-call.xml" -i ::1 -p "$UAC_PORT" \
		-s bob -m 1 -nostdin -trace_err -cid_str "$NAME-%u@sipdiag.test" -d 2000
	wait_bg "$u"
	stop_capture
	expect "ipv6 && $UAS_LEG" "INVITE 100 180 200 ACK BYE 200"
}

rec_baresip_call() {  # baresip registers at Kamailio and calls the SIPp UAS
	local bdir="$WORK/baresip"
	mkdir -p "$bdir"
	cp "$BARESIP_CFG/config" "$BARESIP_CFG/accounts" "$bdir/"
	start_kamailio
	start_capture "udp and (port $PROXY_PORT or port $UAS_PORT or port $BARESIP_PORT)"
	sipp_uas uas-call.xml "$UAS_PORT"; local u=$LAST_PID
	# dial at start-up, quit (hang up and unregister) after 5 s
	run_wait 30 "$WORK/baresip-$NAME.log" \
		baresip -f "$bdir" -e "/dial sip:bob@127.0.0.1:$PROXY_PORT" -t 5 </dev/null
	wait_bg "$u"
	stop_capture
	stop_kamailio
	expect "$UAS_LEG" "INVITE 100 180 200 ACK BYE 200"
	expect "udp.port == $BARESIP_PORT && sip.CSeq.method == \"INVITE\"" "INVITE 100 180 200"
	expect "udp.port == $BARESIP_PORT && sip.CSeq.method == \"BYE\"" "BYE 200"
	expect "udp.port == $BARESIP_PORT && sip.CSeq.method == \"REGISTER\"" \
		"REGISTER 401 REGISTER 200 REGISTER 401 REGISTER 200"
}

ALL=(basic-call cancelled-call busy auth-challenge register no-ack-32s bye-481
	redirect-302 options-keepalive tcp-call ipv6-call baresip-call)

if [ "$#" -gt 0 ]; then
	TODO=("$@")
else
	TODO=("${ALL[@]}")
fi

cd "$WORK"
log "sipp: $(sipp -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -1)"
log "kamailio: $(kamailio -v | head -1)"
log "baresip: $(baresip -h 2>&1 | grep -o 'baresip v[^ ]*' | head -1)"
log "tcpdump: $(tcpdump --version 2>&1 | head -1)"
log "work dir: $WORK"

for NAME in "${TODO[@]}"; do
	fn="rec_${NAME//-/_}"
	if ! declare -F "$fn" >/dev/null; then
		echo "record.sh: unknown scenario '$NAME' (known: ${ALL[*]})" >&2
		exit 2
	fi
	check_ports_free
	log "recording $NAME"
	"$fn"
	publish
	summary
done
log "done: ${TODO[*]}"
