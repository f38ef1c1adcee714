"""One SIP call over a real TLS connection on loopback, between two Python endpoints (``ssl``
over sockets), for tests/tls/test_tls_loopback.py to capture with tcpdump.

Usage: python loopback_call.py PORT VERSION(1.2|1.3) CALL_ID KEYLOG
The client writes the NSS key log (``SSLContext.keylog_filename``); the certificate is made
fresh by samples/record_tls.py's ``make_certificate``.
"""

from __future__ import annotations

import socket
import ssl
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "samples"))
from record_tls import SNI, make_certificate

VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def message(first_line: str, call_id: str, cseq: str, port: int) -> bytes:
    lines = [first_line, f"Via: SIP/2.0/TLS 127.0.0.1:{port};branch=z9hG4bK{cseq.split()[0]}",
             "From: <sips:alice@sip.example.test>;tag=a1", "To: <sips:bob@sip.example.test>"
             + (";tag=b1" if not first_line.startswith("INVITE") else ""),
             f"Call-ID: {call_id}", f"CSeq: {cseq}", "Content-Length: 0"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_message(conn: ssl.SSLSocket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionError("closed before a whole message")
        data += chunk
    return data


def main() -> None:
    port, version, call_id, keylog = int(sys.argv[1]), VERSIONS[sys.argv[2]], sys.argv[3], \
        sys.argv[4]
    with tempfile.TemporaryDirectory() as folder:
        cert, key = make_certificate(folder)
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(cert, key)
        server_ctx.minimum_version = server_ctx.maximum_version = version
        client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client_ctx.load_verify_locations(cert)
        client_ctx.minimum_version = client_ctx.maximum_version = version
        client_ctx.keylog_filename = keylog
        listener = socket.create_server(("127.0.0.1", port))
        listener.settimeout(10)

        def serve() -> None:
            raw, _ = listener.accept()
            with server_ctx.wrap_socket(raw, server_side=True) as conn:
                for answer in ("SIP/2.0 200 OK", None, "SIP/2.0 200 OK"):  # INVITE, ACK, BYE
                    request = read_message(conn).decode()
                    cseq = next(line[6:] for line in request.split("\r\n")
                                if line.startswith("CSeq: "))
                    if answer:
                        conn.sendall(message(answer, call_id, cseq, port))

        server = threading.Thread(target=serve)
        server.start()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
                client_ctx.wrap_socket(raw, server_hostname=SNI) as conn:
            uri = f"sips:bob@{SNI}"
            conn.sendall(message(f"INVITE {uri} SIP/2.0", call_id, "1 INVITE", port))
            read_message(conn)
            conn.sendall(message(f"ACK {uri} SIP/2.0", call_id, "1 ACK", port))
            conn.sendall(message(f"BYE {uri} SIP/2.0", call_id, "2 BYE", port))
            read_message(conn)
        server.join(10)
        listener.close()


if __name__ == "__main__":
    main()
