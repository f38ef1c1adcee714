"""sipdiag: read SIP signalling from packet captures and explain what went wrong in each call.

The pipeline, one package per layer, imports pointing down the list:

- ``sipdiag.capture``: capture files (pcap, pcapng, ERF, NetMon; compressed; stdin) -> frames
- ``sipdiag.network``: frames -> transport payloads (link layers, IP, fragments, TCP, tunnels)
- ``sipdiag.sip``: payloads -> SIP messages (framing, parsing, SDP)
- ``sipdiag.media``: payloads -> RTP and RTCP streams
- ``sipdiag.dialogs``: messages -> transactions, dialogs, calls
- ``sipdiag.rules``: calls -> findings (rule files, checks, the catalog)
- ``sipdiag.analysis``: wires the layers into one analysis of a capture
- ``sipdiag.expectations``: what recorded calls should be, checked against an analysis
- ``sipdiag.report``: what the user sees, one reporter per format
- ``sipdiag.cli``: the command line
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
