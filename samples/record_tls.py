"""Records tls/*: SIP over TLS 1.2, TLS 1.3 and WSS, with the key logs that decrypt them.

The TLS is real: two Python ``ssl`` endpoints (OpenSSL) run the handshake and encrypt the SIP
between them, each side's bytes going to the other through memory BIOs, and the client's
context writes the NSS key log (``SSLContext.keylog_filename``). The script then lays those
exact bytes into TCP segments (handshake, data, FIN) and writes the capture, so it decides how
TLS records fall into segments: one record across several segments, several records in one
segment, several SIP messages in one record, one SIP message across two records.

Every file carries two calls over TLS: a full call (INVITE, 100, 180, 200, ACK, BYE, 200) and
an INVITE refused with 486 Busy Here (and its ACK). ``tls12-calls.pcap`` holds each call on a
TLS connection of its own, so a key log that lacks one of them decrypts only the other.

Written next to the captures, ``truth.json`` says for each file what was sent: per SIP message
its first line, Call-ID, CSeq, transport, source and destination, the frame that carried the
end of its last TLS record (where the message is complete) with that frame's time, and every
frame that ended a record holding part of it; per TLS connection its client, server, SNI and
version. ``tls13-call-secrets.pcapng`` is ``tls13-call.pcap`` with its key log embedded
(``editcap --inject-secrets``). The output is not byte-for-byte reproducible (TLS randoms,
keys and the certificate change every run); the SIP, frames and times do not.

    python3 samples/record_tls.py [--out DIR]     # needs cryptography, scapy, editcap

Generated for sipdiag, CC0.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import ssl
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pcapkit import CRLF, LINKTYPE_RAW, T0_US, Net, Tcp, sip_message, write_pcap

SNI = "sip.example.test"
CLIENT, SERVER = "A", "B"
FRAME_GAP_US = 10_000
"""Every frame 10 ms after the one before."""


@dataclass
class Record:
    """Bytes one side wrote with one ``SSLObject.write`` (one TLS record, here)."""

    plain_end: int  # offset of its plaintext's end in its direction's plaintext
    cipher_end: int  # offset of its ciphertext's end in its direction's ciphertext


@dataclass
class Direction:
    plain: int = 0
    cipher: int = 0
    records: list[Record] = field(default_factory=list)
    segments: list[tuple[int, int]] = field(default_factory=list)
    """(frame, offset of the end of the ciphertext the frame carried)."""
    messages: list[tuple[int, int, bytes]] = field(default_factory=list)
    """(start, end, text) of each SIP message in the plaintext."""


class Connection:
    """One TLS connection between the two memory-BIO endpoints, laid into TCP segments."""

    def __init__(self, capture: Capture, version: ssl.TLSVersion, client: tuple[str, int],
                 server: tuple[str, int], keylog: str, transport: str) -> None:
        self.capture = capture
        self.version, self.transport = version, transport
        self.client, self.server = client, server
        self.tcp = Tcp(Net(client[0], server[0], client[1], server[1]), 0x1000_0000, 0x2000_0000)
        self.mss = {CLIENT: 1400, SERVER: 1400}
        self.dirs = {CLIENT: Direction(), SERVER: Direction()}
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(capture.cert_file, capture.key_file)
        client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client_ctx.load_verify_locations(capture.cert_file)
        client_ctx.keylog_filename = keylog
        for ctx in (server_ctx, client_ctx):
            ctx.minimum_version = ctx.maximum_version = version
        self.bios = {side: (ssl.MemoryBIO(), ssl.MemoryBIO()) for side in (CLIENT, SERVER)}
        self.ends = {
            CLIENT: client_ctx.wrap_bio(*self.bios[CLIENT], server_hostname=SNI),
            SERVER: server_ctx.wrap_bio(*self.bios[SERVER], server_side=True),
        }
        self.ready = False
        for packet in self.tcp.handshake():
            capture.add(packet)
        self._handshake()
        self.ready = True
        for side in (CLIENT, SERVER):  # TLS 1.3 tickets
            self._drain(self.ends[side])
            self.flush(side)

    def _handshake(self) -> None:
        done = {CLIENT: False, SERVER: False}
        while not all(done.values()):
            for side in (CLIENT, SERVER):
                if not done[side]:
                    try:
                        self.ends[side].do_handshake()
                        done[side] = True
                    except ssl.SSLWantReadError:
                        pass
                self.flush(side)

    def flush(self, side: str) -> None:
        """What ``side`` has written goes to the other side, in segments of at most its MSS."""
        outgoing = self.bios[side][1].read()
        direction = self.dirs[side]
        while outgoing:
            piece, outgoing = outgoing[:self.mss[side]], outgoing[self.mss[side]:]
            direction.cipher += len(piece)
            direction.segments.append((self.capture.add(self.tcp.data(side, piece)),
                                       direction.cipher))
            self.bios[Tcp.other(side)][0].write(piece)
        if self.ready:  # the other side reads what came (its handshake reads for itself)
            self._drain(self.ends[Tcp.other(side)])

    def _drain(self, end: ssl.SSLObject) -> None:
        try:
            while end.read(65536):
                pass
        except ssl.SSLWantReadError:
            pass

    def write(self, side: str, data: bytes, messages: tuple[bytes, ...] | list[bytes] = ()) -> None:
        """``data`` as one TLS record, not sent yet; ``messages`` the SIP messages that begin
        in it (their text may go on in later records)."""
        direction = self.dirs[side]
        for message in messages:
            start = direction.plain + data.find(message[:40])
            direction.messages.append((start, start + len(message), message))
        self.ends[side].write(data)
        direction.plain += len(data)
        cipher_end = direction.cipher + self.bios[side][1].pending
        direction.records.append(Record(direction.plain, cipher_end))

    def close(self) -> None:
        for side in (CLIENT, SERVER):
            self.capture.add(self.tcp.fin(side))
        self.capture.add(self.tcp.ack(CLIENT))

    def truth(self) -> dict[str, object]:
        """What was sent over this connection, as truth.json tells it."""
        found = []
        for side, direction in self.dirs.items():
            src, dst = (self.client, self.server) if side == CLIENT else (self.server, self.client)
            for start, end, text in direction.messages:
                frames = sorted({self._record_frame(direction, record)
                                 for record in _records_holding(direction, start, end)})
                first_line, headers = _parse(text)
                found.append({
                    "first_line": first_line, "call_id": headers["call-id"],
                    "cseq": headers["cseq"], "transport": self.transport,
                    "src": _endpoint(src), "dst": _endpoint(dst),
                    "frame": frames[-1], "frames": frames,
                    "ts_ns": self.capture.times_ns[frames[-1] - 1],
                })
        found.sort(key=lambda item: (item["frame"], self._sent_order(item)))
        return {"client": _endpoint(self.client), "server": _endpoint(self.server),
                "sni": SNI, "version": _VERSIONS[self.version], "messages": found}

    def _sent_order(self, item: dict[str, object]) -> int:
        return self.capture.sent.index((item["call_id"], item["first_line"], item["cseq"]))

    @staticmethod
    def _record_frame(direction: Direction, record: Record) -> int:
        """The frame that carried the last byte of the record."""
        return next(frame for frame, end in direction.segments if end >= record.cipher_end)


def _records_holding(direction: Direction, start: int, end: int) -> list[Record]:
    records, begin = [], 0
    for record in direction.records:
        if record.plain_end > start and begin < end:
            records.append(record)
        begin = record.plain_end
    return records


_VERSIONS = {ssl.TLSVersion.TLSv1_2: "TLS 1.2", ssl.TLSVersion.TLSv1_3: "TLS 1.3"}


def _endpoint(address: tuple[str, int]) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _parse(text: bytes) -> tuple[str, dict[str, str]]:
    head = text.split(b"\r\n\r\n", 1)[0].decode().split(CRLF)
    headers = {name.strip().lower(): value.strip()
               for name, value in (line.split(":", 1) for line in head[1:])}
    return head[0], headers


class Capture:
    """The frames of one file, and the truth about them."""

    def __init__(self, cert_file: str, key_file: str) -> None:
        self.cert_file, self.key_file = cert_file, key_file
        self.frames: list[tuple[int, bytes]] = []
        self.times_ns: list[int] = []
        self.sent: list[tuple[str, str, str]] = []

    def add(self, packet: object) -> int:
        """Write ``packet`` as the next frame; its number."""
        t_us = T0_US + len(self.frames) * FRAME_GAP_US
        self.frames.append((t_us, bytes(packet)))  # type: ignore[call-overload]
        self.times_ns.append(t_us * 1000)
        return len(self.frames)


# The calls.

class Call:
    """The SIP text of one call between alice (the TLS client) and bob (the server)."""

    def __init__(self, conn: Connection, call_id: str, tag: str) -> None:
        self.conn, self.call_id, self.tag = conn, call_id, tag
        host, port = conn.client
        self.contact = f"<sip:alice@{_uri_host(host)}:{port};transport={conn.transport.lower()}>"
        self.branch = 0

    def request(self, method: str, cseq: int, to_tag: str = "", body: str = "") -> bytes:
        self.branch += 1
        via_transport = conn_via(self.conn)
        headers = [
            ("Via", f"SIP/2.0/{via_transport} {_uri_host(self.conn.client[0])}:"
                    f"{self.conn.client[1]};branch=z9hG4bK-{self.call_id[:8]}-{self.branch}"),
            ("Max-Forwards", "70"),
            ("From", f"<sip:alice@{SNI}>;tag={self.tag}"),
            ("To", f"<sip:bob@{SNI}>" + (f";tag={to_tag}" if to_tag else "")),
            ("Call-ID", self.call_id), ("CSeq", f"{cseq} {method}"), ("Contact", self.contact),
        ]
        message = sip_message(f"{method} sip:bob@{SNI};transport=tls SIP/2.0", headers, body)
        self.conn.capture.sent.append((self.call_id, f"{method} sip:bob@{SNI};transport=tls "
                                       "SIP/2.0", f"{cseq} {method}"))
        return message

    def response(self, request: bytes, status: int, reason: str, to_tag: str = "",
                 body: str = "") -> bytes:
        _, headers = _parse(request)
        to = headers["to"] + (f";tag={to_tag}" if to_tag and ";tag=" not in headers["to"] else "")
        fields = [("Via", headers["via"]), ("From", headers["from"]), ("To", to),
                  ("Call-ID", self.call_id), ("CSeq", headers["cseq"])]
        if status < 300 and to_tag:
            fields.append(("Contact", f"<sip:bob@{_uri_host(self.conn.server[0])}:"
                                      f"{self.conn.server[1]};transport=tls>"))
        first = f"SIP/2.0 {status} {reason}"
        self.conn.capture.sent.append((self.call_id, first, headers["cseq"]))
        return sip_message(first, fields, body)


def conn_via(conn: Connection) -> str:
    return "WSS" if conn.transport == "WSS" else "TLS"


def _uri_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _sdp(host: str, port: int) -> str:
    family = "IP6" if ":" in host else "IP4"
    return CRLF.join([
        "v=0", f"o=- 1 1 IN {family} {host}", "s=-", f"c=IN {family} {host}", "t=0 0",
        f"m=audio {port} RTP/AVP 0", "a=rtpmap:0 PCMU/8000", "a=sendrecv"]) + CRLF


def full_call(conn: Connection, call_id: str, send: Send, edge_cases: bool) -> None:
    """INVITE, 100, 180, 200, ACK, BYE, 200. With ``edge_cases``: the INVITE in two records
    (its headers, then its body) over small segments, 100 and 180 as two records in one
    segment, ACK and BYE in one record."""
    call = Call(conn, call_id, "a1")
    invite = call.request("INVITE", 1, body=_sdp(conn.client[0], 40000))
    if edge_cases:
        conn.mss[CLIENT] = 300  # the INVITE's records take several segments
        cut = invite.index(b"\r\n\r\n") + 4
        send.write(CLIENT, invite[:cut], [invite])
        send.flush(CLIENT)
        send.write(CLIENT, invite[cut:], [])
        send.flush(CLIENT)
        conn.mss[CLIENT] = 1400
        trying, ringing = call.response(invite, 100, "Trying"), call.response(
            invite, 180, "Ringing", "b1")
        send.write(SERVER, trying, [trying])
        send.write(SERVER, ringing, [ringing])
        send.flush(SERVER)
    else:
        send.message(CLIENT, invite)
        send.message(SERVER, call.response(invite, 100, "Trying"))
        send.message(SERVER, call.response(invite, 180, "Ringing", "b1"))
    send.message(SERVER, call.response(invite, 200, "OK", "b1", _sdp(conn.server[0], 50000)))
    ack, bye = call.request("ACK", 1, "b1"), call.request("BYE", 2, "b1")
    if edge_cases:
        send.write(CLIENT, ack + bye, [ack, bye])
        send.flush(CLIENT)
    else:
        send.message(CLIENT, ack)
        send.message(CLIENT, bye)
    send.message(SERVER, call.response(bye, 200, "OK", "b1"))


def busy_call(conn: Connection, call_id: str, send: Send) -> None:
    """INVITE refused with 486 Busy Here, and its ACK."""
    call = Call(conn, call_id, "a2")
    invite = call.request("INVITE", 1, body=_sdp(conn.client[0], 40002))
    send.message(CLIENT, invite)
    send.message(SERVER, call.response(invite, 100, "Trying"))
    send.message(SERVER, call.response(invite, 486, "Busy Here", "b2"))
    send.message(CLIENT, call.request("ACK", 1, "b2"))


class Send:
    """How SIP goes over a connection: straight into TLS, or in WebSocket frames (RFC 7118)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def wrap(self, side: str, data: bytes) -> bytes:
        return data

    def write(self, side: str, data: bytes, messages: list[bytes]) -> None:
        self.conn.write(side, self.wrap(side, data), messages)

    def flush(self, side: str) -> None:
        self.conn.flush(side)

    def message(self, side: str, message: bytes) -> None:
        self.write(side, message, [message])
        self.flush(side)


class WebSocketSend(Send):
    """SIP in WebSocket text frames (RFC 6455 5.2): the client masks, the server does not."""

    MASK = b"\x5a\x17\xc3\x2e"

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        host = f"{SNI}:{conn.server[1]}"
        request = (f"GET /sip HTTP/1.1{CRLF}Host: {host}{CRLF}Upgrade: websocket{CRLF}"
                   f"Connection: Upgrade{CRLF}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=={CRLF}"
                   f"Sec-WebSocket-Version: 13{CRLF}Sec-WebSocket-Protocol: sip{CRLF}{CRLF}")
        response = (f"HTTP/1.1 101 Switching Protocols{CRLF}Upgrade: websocket{CRLF}"
                    f"Connection: Upgrade{CRLF}"
                    f"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo={CRLF}"
                    f"Sec-WebSocket-Protocol: sip{CRLF}{CRLF}")
        conn.write(CLIENT, request.encode())
        conn.flush(CLIENT)
        conn.write(SERVER, response.encode())
        conn.flush(SERVER)

    def wrap(self, side: str, data: bytes) -> bytes:
        size = len(data)
        length = bytes([size]) if size < 126 else bytes([126]) + size.to_bytes(2, "big")
        if side == SERVER:
            return b"\x81" + length + data
        masked = bytes(byte ^ self.MASK[i % 4] for i, byte in enumerate(data))
        return b"\x81" + bytes([0x80 | length[0]]) + length[1:] + self.MASK + masked

    def write(self, side: str, data: bytes, messages: list[bytes]) -> None:
        # The truth locates a message in the plaintext by its text: a masked frame hides it,
        # so each message is registered at its frame, unmasked, by its length.
        frame = self.wrap(side, data)
        direction = self.conn.dirs[side]
        start = direction.plain + len(frame) - len(data)
        direction.messages.append((start, start + len(data), data))
        self.conn.write(side, frame)


def record(out: str, name: str, version: ssl.TLSVersion, connections: list[tuple[
        tuple[str, int], tuple[str, int], str]], certs: tuple[str, str]) -> dict[str, object]:
    """Write ``name`` (its calls, one connection each or both on one) and its key log."""
    capture = Capture(*certs)
    keylog = os.path.join(out, name.rsplit(".", 1)[0] + ".keylog")
    if os.path.exists(keylog):
        os.remove(keylog)
    truths = []
    transport = "WSS" if name.startswith("wss") else "TLS"
    conns = [Connection(capture, version, client, server, keylog, transport)
             for client, server, _ in connections]
    stem = name.split(".")[0]
    if len(conns) == 2:
        full_call(conns[0], f"{stem}-full@{SNI}", Send(conns[0]), edge_cases=True)
        busy_call(conns[1], f"{stem}-busy@{SNI}", Send(conns[1]))
    else:
        conn = conns[0]
        send = WebSocketSend(conn) if transport == "WSS" else Send(conn)
        full_call(conn, f"{stem}-full@{SNI}", send, edge_cases=False)
        busy_call(conn, f"{stem}-busy@{SNI}", send)
    for conn in conns:
        conn.close()
        truths.append(conn.truth())
    write_pcap(os.path.join(out, name), LINKTYPE_RAW, capture.frames)
    return {"keylog": os.path.basename(keylog), "connections": truths}


def make_certificate(folder: str) -> tuple[str, str]:
    """A self-signed certificate for SNI, made fresh (it is in no file kept)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SNI)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(SNI)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    with open(cert_file, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return cert_file, key_file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "tls"))
    out = parser.parse_args().out
    os.makedirs(out, exist_ok=True)
    v4, v6 = "127.0.0.1", "::1"
    truth = {}
    with tempfile.TemporaryDirectory() as tmp:
        certs = make_certificate(tmp)
        truth["tls12-calls.pcap"] = record(out, "tls12-calls.pcap", ssl.TLSVersion.TLSv1_2, [
            ((v4, 50612), (v4, 5061), "full"), ((v4, 50614), (v4, 5061), "busy")], certs)
        truth["tls13-call.pcap"] = record(out, "tls13-call.pcap", ssl.TLSVersion.TLSv1_3, [
            ((v6, 50613), (v6, 5061), "both")], certs)
        truth["wss-call.pcap"] = record(out, "wss-call.pcap", ssl.TLSVersion.TLSv1_3, [
            ((v4, 50615), (v4, 8443), "both")], certs)
    subprocess.run(["editcap", "--inject-secrets",
                    f"tls,{os.path.join(out, 'tls13-call.keylog')}",
                    os.path.join(out, "tls13-call.pcap"),
                    os.path.join(out, "tls13-call-secrets.pcapng")], check=True)
    truth["tls13-call-secrets.pcapng"] = dict(truth["tls13-call.pcap"], keylog=None)
    with open(os.path.join(out, "truth.json"), "w") as f:
        json.dump(truth, f, indent=1)
        f.write("\n")
    print(f"wrote {len(truth)} captures and their key logs to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
