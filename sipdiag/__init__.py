"""sipdiag: read SIP signalling from packet captures and explain what went wrong in each call.

The pipeline, one package per layer, imports pointing down the list:

- ``sipdiag.capture``: capture files (pcap, pcapng, ERF, NetMon; compressed; stdin) -> frames
- ``sipdiag.network``: frames -> transport payloads (link layers, IP, fragments, TCP, tunnels)
- ``sipdiag.sip``: payloads -> SIP messages (framing, parsing, SDP)
- ``sipdiag.report``: what the user sees
- ``sipdiag.pipeline`` wires the layers; ``sipdiag.cli`` is the command line.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
