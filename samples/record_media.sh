#!/usr/bin/env bash
# Record the sipdiag media sample captures in samples/media/recorded/:
# SIP *and* RTP/RTCP from real SIP software talking over the loopback
# interface:
#   SIPp 3.6.1 (UAC and UAS, scenarios samples/scenarios/media-*.xml),
#     streaming G.711 with its rtp_stream action,
#   Kamailio 5.6 as a stateful proxy (samples/kamailio/kamailio.cfg;
#     it relays the signalling only, RTP flows end to end),
#   baresip 1.0 as a real user agent (samples/baresip/, adapted in a
#     temporary directory; audio from its ausine tone generator, RTCP on),
# each call captured by tcpdump on lo into its own pcap, with every UDP
# packet of the participants (SIP, RTP, RTCP) and ICMP errors.
#
# Usage:  bash samples/record_media.sh [NAME ...]
#         (NAME = sipp-rtp-call, baresip-to-baresip, ...; default: all)
#         KEEP_WORK=1 keeps the SIPp / Kamailio / baresip / tcpdump logs.
#
# Needs root (tcpdump), python3, and the Debian packages sip-tester,
# kamailio, baresip, tcpdump and tshark.  All traffic stays on 127.0.0.1,
# every program runs under `timeout`, and every background process is
# stopped on exit (trap).  The G.711 tone files SIPp streams are generated
# by this script (samples/media/recorded/input/, a few lines of Python,
# no download).  After each recording the SIP messages and the RTP
# streams (tshark -z rtp,streams) are read back and compared with what the
# scenario must produce; the script fails if they differ, and the previous
# file is then left in place.
#
# Generated for sipdiag, CC0.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCN="$HERE/scenarios"
OUT="$HERE/media/recorded"
IN="$OUT/input"
KAM_CFG="$HERE/kamailio/kamailio.cfg"
BARESIP_CFG="$HERE/baresip"

# Ports (all on 127.0.0.1)
PROXY_PORT=5060      # Kamailio (signalling only)
UAS_PORT=5070        # SIPp UAS, or the called baresip (Kamailio forwards there)
UAC_PORT=5080        # SIPp UAC
BARESIP_PORT=5090    # calling baresip
UAC_MEDIA=6000       # SIPp UAC RTP (SIPp also binds +2 for video)
UAS_MEDIA=6100       # SIPp UAS RTP (and +2)
WRONG_PORT=6200      # port the "wrong-port" UAS announces; nobody listens
CALLER_RTP=10000-10010   # calling baresip rtp_ports (RTCP on RTP+1)
CALLEE_RTP=10020-10030   # called baresip rtp_ports
CTRL_PORT=4444       # baresip ctrl_tcp (TCP, not captured)
ALL_PORTS=("$PROXY_PORT" "$UAS_PORT" "$UAC_PORT" "$BARESIP_PORT"
	"$UAC_MEDIA" $((UAC_MEDIA + 1)) $((UAC_MEDIA + 2))
	"$UAS_MEDIA" $((UAS_MEDIA + 1)) $((UAS_MEDIA + 2)) "$WRONG_PORT" "$CTRL_PORT"
	$(seq 10000 10031))
# every UDP packet of the participants, and the ICMP errors they cause
CAP_FILTER="(udp and (portrange 5060-5099 or portrange 6000-6299 or portrange 10000-10099)) or (icmp and host 127.0.0.1)"

for tool in sipp kamailio baresip tcpdump tshark timeout ss python3; do
	command -v "$tool" >/dev/null || { echo "record_media.sh: $tool is not installed" >&2; exit 1; }
done
if [ "$(id -u)" -ne 0 ]; then
	echo "record_media.sh: must run as root (tcpdump on lo)" >&2
	exit 1
fi

WORK="$(mktemp -d /tmp/sipdiag-record-media.XXXXXX)"
SCRIPT=record_media.sh
CTRL_FD=""
# shellcheck source=recording.sh
source "$HERE/recording.sh"
before_cleanup() { ctrl_close; }

die() { echo "record_media.sh: ${NAME:+$NAME: }$*" >&2; exit 1; }

# --------------------------------------------------------------------------
# Audio input for SIPp's rtp_stream: raw G.711 (no header), 160 bytes per
# 20 ms packet.  200 ms of a sine tone at about -10 dBFS (a whole number of
# periods, so the loop is seamless), encoded with the ITU-T G.711 A-law and
# mu-law rules (the classic Sun reference encoder, integer input >> 3 / >> 2).
# Deterministic: the same bytes on every run.

gen_inputs() {
	mkdir -p "$IN"
	python3 - "$IN" <<'EOF'
import math, os, sys

def alaw(x):
    x >>= 3
    if x >= 0:
        mask = 0xD5
    else:
        mask, x = 0x55, -x - 1
    if x < 32:
        code = x >> 1
    else:
        seg = x.bit_length() - 5
        code = (seg << 4) | ((x >> seg) & 0x0F) if seg <= 7 else 0x7F
    return code ^ mask

def ulaw(x):
    x >>= 2
    if x < 0:
        x, mask = -x, 0x7F
    else:
        mask = 0xFF
    x = min(x, 8159) + (0x84 >> 2)
    exp = x.bit_length() - 6
    if exp > 7:
        return 0x7F ^ mask
    return ((exp << 4) | ((x >> (exp + 1)) & 0x0F)) ^ mask

out = sys.argv[1]
for freq, law, enc in ((440, "pcma", alaw), (880, "pcma", alaw), (880, "pcmu", ulaw)):
    pcm = [round(0.3 * 32767 * math.sin(2 * math.pi * freq * n / 8000)) for n in range(1600)]
    data = bytes(enc(s) for s in pcm)
    path = os.path.join(out, "tone-%dhz-200ms.%s" % (freq, law))
    with open(path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(path + ".tmp", path)
    os.chmod(path, 0o644)
EOF
}

TONE_UAC_A="$IN/tone-440hz-200ms.pcma"   # caller: 440 Hz, A-law
TONE_UAS_A="$IN/tone-880hz-200ms.pcma"   # callee: 880 Hz, A-law
TONE_UAS_U="$IN/tone-880hz-200ms.pcmu"   # callee: 880 Hz, mu-law

# --------------------------------------------------------------------------
# SIPp runners.  Each call gets a readable, stable Call-ID: NAME-N@IP.
sipp_uas() {  # sipp_uas SCENARIO [extra sipp args]; background
	local scen="$1"
	shift
	bg 90 "$WORK/uas-$NAME.log" \
		sipp -sf "$SCN/$scen" -i 127.0.0.1 -p "$UAS_PORT" -mp "$UAS_MEDIA" \
		-m 1 -nostdin -trace_err "$@"
	wait_port udp "$UAS_PORT"
}

sipp_uac() {  # sipp_uac SCENARIO [extra sipp args]; foreground, via Kamailio
	local scen="$1"
	shift
	run_wait 90 "$WORK/uac-$NAME.log" \
		sipp "127.0.0.1:$PROXY_PORT" -sf "$SCN/$scen" -i 127.0.0.1 -p "$UAC_PORT" \
		-mp "$UAC_MEDIA" -s bob -m 1 -nostdin -trace_err -cid_str "$NAME-%u@%s" "$@"
}

# --------------------------------------------------------------------------
# baresip.  Configurations are made in $WORK from samples/baresip/:
#   caller  alice, SIP 5090, RTP 10000-10010, ausine 440 Hz, no REGISTER
#           (regint=0), Kamailio as outbound proxy, driven over ctrl_tcp
#   callee  bob, SIP 5070 (where Kamailio forwards), RTP 10020-10030,
#           ausine 880 Hz, answermode=auto, no REGISTER
# Both offer PCMU, PCMA and telephone-event, send RTCP on RTP+1 (rtcp_mux no).

baresip_dir() {  # baresip_dir DIR SIP_PORT RTP_PORTS FREQ
	local dir="$1"
	mkdir -p "$dir"
	sed -e "s/^sip_listen.*/sip_listen\t\t127.0.0.1:$2/" \
		-e "s/^rtp_ports.*/rtp_ports\t\t$3/" \
		-e "s/^audio_source.*/audio_source\t\tausine,$4/" \
		"$BARESIP_CFG/config" >"$dir/config"
	grep -q "^sip_listen.*127.0.0.1:$2\$" "$dir/config" || die "could not adapt baresip config"
	grep -q "^rtp_ports.*$3\$" "$dir/config" || die "could not adapt baresip config"
}

start_baresip_caller() {
	local dir="$WORK/baresip-caller-$NAME"
	baresip_dir "$dir" "$BARESIP_PORT" "$CALLER_RTP" 440
	printf 'module_app\t\tctrl_tcp.so\nctrl_tcp_listen\t\t127.0.0.1:%s\n' "$CTRL_PORT" >>"$dir/config"
	sed -e 's/regint=[0-9]*/regint=0/' "$BARESIP_CFG/accounts" >"$dir/accounts"
	grep -q "regint=0" "$dir/accounts" || die "could not adapt baresip accounts"
	bg 60 "$WORK/baresip-caller-$NAME.log" baresip -f "$dir" </dev/null
	CALLER_PID=$LAST_PID
	wait_port udp "$BARESIP_PORT"
	wait_port tcp "$CTRL_PORT"
	ctrl_open
}

start_baresip_callee() {
	local dir="$WORK/baresip-callee-$NAME"
	baresip_dir "$dir" "$UAS_PORT" "$CALLEE_RTP" 880
	printf '# bob: reached through Kamailio (which forwards to 127.0.0.1:%s), answers at once\n<sip:bob@127.0.0.1:%s;transport=udp>;regint=0;audio_codecs=PCMU,PCMA;answermode=auto\n' \
		"$UAS_PORT" "$UAS_PORT" >"$dir/accounts"
	bg 60 "$WORK/baresip-callee-$NAME.log" baresip -f "$dir" </dev/null
	CALLEE_PID=$LAST_PID
	wait_port udp "$UAS_PORT"
}

# ctrl_tcp: JSON commands in netstrings over one TCP connection; the
# responses and events are copied to $WORK/ctrl-NAME.log.
ctrl_open() {
	exec {CTRL_FD}<>"/dev/tcp/127.0.0.1/$CTRL_PORT"
	timeout 60 cat <&"$CTRL_FD" >"$WORK/ctrl-$NAME.log" 2>&1 &
	BG_PIDS+=("$!")
	CTRL_READER=$!
}

ctrl_close() {
	if [ -n "$CTRL_FD" ]; then
		exec {CTRL_FD}>&- || true
		CTRL_FD=""
	fi
}

ctrl() {  # ctrl COMMAND [PARAMS]
	local json
	json="{\"command\":\"$1\",\"params\":\"${2:-}\",\"token\":\"$1-$((++CTRL_SEQ))\"}"
	log "$NAME: baresip ctrl: $1${2:+ $2}"
	printf '%d:%s,' "${#json}" "$json" >&"$CTRL_FD"
}
CTRL_SEQ=0

wait_event() {  # wait_event TYPE [SECONDS]: until baresip reports the event
	local i
	for i in $(seq 1 $((${2:-10} * 10))); do
		grep -q "\"type\":\"$1\"" "$WORK/ctrl-$NAME.log" 2>/dev/null && return 0
		sleep 0.1
	done
	die "baresip did not report $1 (see $WORK/ctrl-$NAME.log)"
}

finish_baresip() {  # quit the caller (and stop the callee, if any)
	ctrl quit
	wait_bg "$CALLER_PID"
	wait_bg "$CTRL_READER"
	ctrl_close
	if [ -n "${CALLEE_PID:-}" ]; then
		sleep 0.3
		stop_pid "$CALLEE_PID"   # idle: no call, no registration, no traffic
		CALLEE_PID=""
	fi
}

# --------------------------------------------------------------------------
# Checks

# rtp_streams FILE: tshark's RTP stream table as tab-separated fields:
# src sport dst dport ssrc payload pkts lost maxdelta maxjitter problems
# (payload without spaces: g711U,telephone-event)
rtp_streams() {
	tshark -r "$1" -q -z rtp,streams 2>/dev/null | python3 -c '
import re, sys
row = re.compile(r"^\s*([\d.]+)\s+([\d.]+)\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(0x[0-9A-Fa-f]+)\s+(.+?)\s+(\d+)\s+(-?\d+) \(\S+%\)"
                 r"\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*(X?)\s*$")
for line in sys.stdin:
    m = row.match(line)
    if m:
        g = m.groups()
        print("\t".join((g[2], g[3], g[4], g[5], g[6], g[7].replace(" ", ""), g[8], g[9], g[12], g[15], g[16] or "-")))
'
}

# expect_streams "SPORT>DPORT PAYLOAD MIN-MAX" ...: the capture holds
# exactly these RTP streams (a port may be a range LO-HI), none lost.
expect_streams() {
	local table
	table="$(rtp_streams "$CAP_FILE")"
	python3 - "$table" "$@" <<'EOF' || die "RTP streams not as expected (tshark -q -z rtp,streams)"
import sys
rows = [l.split("\t") for l in sys.argv[1].splitlines() if l]
specs = sys.argv[2:]
def inrange(v, spec):
    lo, _, hi = spec.partition("-")
    return int(lo) <= int(v) <= int(hi or lo)
ok = len(rows) == len(specs)
used = set()
for spec in specs:
    ports, payload, counts = spec.split(" ")
    sp, dp = ports.split(">")
    for i, r in enumerate(rows):
        if i in used:
            continue
        if inrange(r[1], sp) and inrange(r[3], dp) and r[5] == payload:
            used.add(i)
            if not inrange(r[6], counts):
                print("  stream %s:%s > %s:%s: %s packets, expected %s" % (r[0], r[1], r[2], r[3], r[6], counts), file=sys.stderr)
                ok = False
            if r[7] != "0":
                print("  stream %s:%s > %s:%s: %s lost" % (r[0], r[1], r[2], r[3], r[7]), file=sys.stderr)
                ok = False
            break
    else:
        print("  no stream for " + spec, file=sys.stderr)
        ok = False
if not ok:
    print("  expected: " + "; ".join(specs), file=sys.stderr)
    print("  got:\n    " + "\n    ".join(" ".join(r) for r in rows), file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
	log "$NAME: RTP streams as expected: $*"
}

count() {  # count DISPLAYFILTER: frames of the new capture that match
	tshark -r "$CAP_FILE" -Y "$1" 2>/dev/null | wc -l
}

expect_count() {  # expect_count DISPLAYFILTER MIN [MAX]
	local n
	n="$(count "$1")"
	if [ "$n" -lt "$2" ] || { [ -n "${3:-}" ] && [ "$n" -gt "$3" ]; }; then
		die "[$1]: $n frames, expected ${2}..${3:-}"
	fi
	log "$NAME: [$1] $n frames"
}

first_time() {  # first_time DISPLAYFILTER: frame.time_relative of the first match
	tshark -r "$CAP_FILE" -Y "$1" -T fields -e frame.time_relative 2>/dev/null | head -1
}

last_time() {
	tshark -r "$CAP_FILE" -Y "$1" -T fields -e frame.time_relative 2>/dev/null | tail -1
}

# expect_gap FROM_FILTER TO_FILTER MIN_SECONDS: the first TO frame comes
# at least MIN_SECONDS after the last FROM frame
expect_gap() {
	local a b
	a="$(last_time "$1")"
	b="$(first_time "$2")"
	[ -n "$a" ] && [ -n "$b" ] || die "no frames for the gap check [$1] -> [$2]"
	python3 -c "import sys; sys.exit(0 if float('$b') - float('$a') >= $3 else 1)" ||
		die "[$1] ends at $a s, [$2] starts at $b s: gap below $3 s"
	log "$NAME: last [$1] at $a s, first [$2] at $b s"
}

summary() {
	local f="$OUT/$NAME.pcap"
	tshark -r "$f" -Y sip -T fields -e frame.number -e frame.time_relative \
		-e udp.srcport -e udp.dstport -e sip.Method -e sip.Status-Code 2>/dev/null | sed 's/^/    /' >&2
	log "$NAME: $(stat -c %s "$f") bytes, $(tshark -r "$f" 2>/dev/null | wc -l) frames, RTP streams:"
	rtp_streams "$f" | sed 's/^/    /' >&2
	log "$NAME: RTCP $(tshark -r "$f" -Y 'rtcp && !icmp' 2>/dev/null | wc -l), RTP events $(tshark -r "$f" -Y 'rtpevent' 2>/dev/null | wc -l), ICMP $(tshark -r "$f" -Y icmp 2>/dev/null | wc -l)"
}

SIPP_CALL="INVITE 100 180 200 ACK BYE 200"
UAC_LEG="udp.port == $UAC_PORT"
UAS_LEG="udp.port == $UAS_PORT"
CALLER_LEG="udp.port == $BARESIP_PORT"
RTP_A="$UAC_MEDIA>$UAS_MEDIA"      # SIPp UAC -> SIPp UAS
RTP_B="$UAS_MEDIA>$UAC_MEDIA"      # SIPp UAS -> SIPp UAC

# --------------------------------------------------------------------------
# Scenarios

rec_sipp_rtp_call() {  # both sides stream A-law for 3 s, then BYE
	start_kamailio
	start_capture "$CAP_FILTER"
	sipp_uas media-uas-call.xml -key pt 8 -key codec PCMA -key uas_stream "$TONE_UAS_A,-1,8"
	local u=$LAST_PID
	sipp_uac media-uac-call.xml -d 3000 -key uac_stream "$TONE_UAC_A,-1,8"
	wait_bg "$u"
	stop_capture
	stop_kamailio
	expect "$UAC_LEG" "$SIPP_CALL"
	expect "$UAS_LEG" "$SIPP_CALL"
	expect_streams "$RTP_A g711A 140-160" "$RTP_B g711A 140-160"
}

rec_sipp_rtp_one_way() {  # the callee never sends RTP
	start_kamailio
	start_capture "$CAP_FILTER"
	sipp_uas media-uas-silent.xml -key pt 8 -key codec PCMA
	local u=$LAST_PID
	sipp_uac media-uac-call.xml -d 3000 -key uac_stream "$TONE_UAC_A,-1,8"
	wait_bg "$u"
	stop_capture
	stop_kamailio
	expect "$UAC_LEG" "$SIPP_CALL"
	expect "$UAS_LEG" "$SIPP_CALL"
	expect_streams "$RTP_A g711A 140-160"
}

rec_sipp_rtp_late_bye() {  # 3 s of audio both ways, 5 s of nothing, BYE
	start_kamailio
	start_capture "$CAP_FILTER"
	# 15 loops of the 200 ms file = 150 packets, then the streams end
	sipp_uas media-uas-call.xml -key pt 8 -key codec PCMA -key uas_stream "$TONE_UAS_A,15,8"
	local u=$LAST_PID
	sipp_uac media-uac-call.xml -d 8000 -key uac_stream "$TONE_UAC_A,15,8"
	wait_bg "$u"
	stop_capture
	stop_kamailio
	expect "$UAC_LEG" "$SIPP_CALL"
	expect "$UAS_LEG" "$SIPP_CALL"
	expect_streams "$RTP_A g711A 150-150" "$RTP_B g711A 150-150"
	expect_gap "rtp" "sip.Method == \"BYE\"" 4.5
}

rec_sipp_rtp_wrong_port() {  # the callee's SDP names a port it does not listen on
	start_kamailio
	start_capture "$CAP_FILTER"
	sipp_uas media-uas-wrong-port.xml -key pt 8 -key codec PCMA -key sdp_port "$WRONG_PORT" \
		-key uas_stream "$TONE_UAS_A,-1,8"
	local u=$LAST_PID
	sipp_uac media-uac-call.xml -d 3000 -key uac_stream "$TONE_UAC_A,-1,8"
	wait_bg "$u"
	stop_capture
	stop_kamailio
	expect "$UAC_LEG" "$SIPP_CALL"
	expect "$UAS_LEG" "$SIPP_CALL"
	expect_streams "$UAC_MEDIA>$WRONG_PORT g711A 140-160" "$RTP_B g711A 140-160"
	expect_count "icmp.type == 3 && icmp.code == 3 && udp.dstport == $WRONG_PORT" 140 160
}

rec_baresip_to_sipp_rtp() {  # baresip (PCMU, RTCP) -> Kamailio -> streaming SIPp UAS
	start_kamailio
	start_capture "$CAP_FILTER"
	sipp_uas media-uas-call.xml -key pt 0 -key codec PCMU -key uas_stream "$TONE_UAS_U,-1,0"
	local u=$LAST_PID
	start_baresip_caller
	ctrl dial "sip:bob@127.0.0.1:$PROXY_PORT"
	wait_event CALL_ESTABLISHED
	# 6 s: baresip sends its first RTCP report 5 s after the media start
	sleep 6
	ctrl hangup
	wait_event CALL_CLOSED
	finish_baresip
	wait_bg "$u"
	stop_capture
	stop_kamailio
	expect "$UAS_LEG" "$SIPP_CALL"
	expect "$CALLER_LEG" "$SIPP_CALL"
	expect_streams "$CALLER_RTP>$UAS_MEDIA g711U 280-320" "$UAS_MEDIA>$CALLER_RTP g711U 280-320"
	expect_count "rtcp.pt == 200 && !icmp" 1     # sender report
	expect_count "rtcp.pt == 203 && !icmp" 1 1   # RTCP BYE at hang-up
}

rec_baresip_to_baresip() {  # two baresips through Kamailio, audio + RTCP both ways
	start_kamailio
	start_capture "$CAP_FILTER"
	start_baresip_callee
	start_baresip_caller
	ctrl dial "sip:bob@127.0.0.1:$PROXY_PORT"
	wait_event CALL_ESTABLISHED
	sleep 6
	ctrl hangup
	wait_event CALL_CLOSED
	finish_baresip
	stop_capture
	stop_kamailio
	expect "$CALLER_LEG" "$SIPP_CALL" "INVITE 100 200 180 ACK BYE 200"
	expect "$UAS_LEG" "INVITE 180 200 ACK BYE 200"
	expect_streams "$CALLER_RTP>$CALLEE_RTP g711U 280-320" "$CALLEE_RTP>$CALLER_RTP g711U 280-320"
	expect_count "rtcp.pt == 200 && !icmp && udp.srcport >= 10000 && udp.srcport <= 10011" 1
	expect_count "rtcp.pt == 200 && !icmp && udp.srcport >= 10020 && udp.srcport <= 10031" 1
}

rec_baresip_hold() {  # baresip puts the call on hold (re-INVITE sendonly) and resumes it
	start_kamailio
	start_capture "$CAP_FILTER"
	start_baresip_callee
	start_baresip_caller
	ctrl dial "sip:bob@127.0.0.1:$PROXY_PORT"
	wait_event CALL_ESTABLISHED
	sleep 2
	ctrl hold
	sleep 3
	ctrl resume
	sleep 2
	ctrl hangup
	wait_event CALL_CLOSED
	finish_baresip
	stop_capture
	stop_kamailio
	local reinv="INVITE 100 200 ACK INVITE 100 200 ACK"
	expect "$CALLER_LEG" "INVITE 100 180 200 ACK $reinv BYE 200" "INVITE 100 200 180 ACK $reinv BYE 200"
	expect "$UAS_LEG" "INVITE 180 200 ACK INVITE 200 ACK INVITE 200 ACK BYE 200"
	expect_count "$CALLER_LEG && sip.Method == \"INVITE\" && sdp.media_attr == \"sendonly\"" 1 1
	expect_count "$CALLER_LEG && sip.Status-Code == 200 && sdp.media_attr == \"recvonly\"" 1 1
	# both sides stop sending while on hold: 2 s + 2 s of audio, a 3 s gap
	expect_streams "$CALLER_RTP>$CALLEE_RTP g711U 180-230" "$CALLEE_RTP>$CALLER_RTP g711U 180-230"
	rtp_streams "$CAP_FILE" | awk -F'\t' '$9 < 2500 { bad = 1 } END { exit bad }' ||
		die "an RTP stream has no gap of 2.5 s or more during the hold"
}

rec_baresip_dtmf() {  # baresip sends the digits 1 2 3 # as RFC 4733 telephone-events
	start_kamailio
	start_capture "$CAP_FILTER"
	start_baresip_callee
	start_baresip_caller
	ctrl dial "sip:bob@127.0.0.1:$PROXY_PORT"
	wait_event CALL_ESTABLISHED
	sleep 1.5
	local d
	for d in 1 2 3 '#'; do
		ctrl sndcode "$d"
		sleep 0.6
	done
	sleep 1.5
	ctrl hangup
	wait_event CALL_CLOSED
	finish_baresip
	stop_capture
	stop_kamailio
	expect "$CALLER_LEG" "$SIPP_CALL" "INVITE 100 200 180 ACK BYE 200"
	expect "$UAS_LEG" "INVITE 180 200 ACK BYE 200"
	# about 5.4 s of audio each way; baresip 1.0 sends the 4 x 12 event
	# packets in addition to (interleaved with) its audio packets, same SSRC
	expect_streams "$CALLER_RTP>$CALLEE_RTP g711U,telephone-event 290-350" "$CALLEE_RTP>$CALLER_RTP g711U 240-300"
	expect_count "rtpevent && !icmp" 48 48
	local events
	events="$(tshark -r "$CAP_FILE" -Y 'rtpevent && !icmp' -T fields -e rtpevent.event_id 2>/dev/null | uniq | tr '\n' ' ' | sed 's/ $//')"
	[ "$events" = "1 2 3 11" ] || die "telephone-events $events, expected 1 2 3 11 (#)"
	log "$NAME: telephone-events $events"
}

ALL=(sipp-rtp-call sipp-rtp-one-way sipp-rtp-late-bye sipp-rtp-wrong-port
	baresip-to-sipp-rtp baresip-to-baresip baresip-hold baresip-dtmf)

if [ "$#" -gt 0 ]; then
	TODO=("$@")
else
	TODO=("${ALL[@]}")
fi
for NAME in "${TODO[@]}"; do
	declare -F "rec_${NAME//-/_}" >/dev/null ||
		{ echo "record_media.sh: unknown scenario '$NAME' (known: ${ALL[*]})" >&2; exit 2; }
done
NAME=""

cd "$WORK"
log "sipp: $(sipp -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -1)"
log "kamailio: $(kamailio -v | head -1)"
log "baresip: $(baresip -h 2>&1 | grep -o 'baresip v[^ ]*' | head -1)"
log "tcpdump: $(tcpdump --version 2>&1 | head -1)"
log "tshark: $(tshark -v 2>/dev/null | head -1)"
log "work dir: $WORK"
gen_inputs

for NAME in "${TODO[@]}"; do
	check_ports_free
	log "recording $NAME"
	CALLEE_PID=""
	"rec_${NAME//-/_}"
	publish
	summary
done
log "done: ${TODO[*]}"
