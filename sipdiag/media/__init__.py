"""Media layer: UDP payloads and SIP messages in, each call's RTP and RTCP out.

Beside ``sip``, on the same payloads the network layer yields (so TCP signalling, fragments,
VLANs, tunnels and several files work for media as for SIP):

- ``tracker``: ``MediaTracker`` binds every address an SDP announces to its call, follows the
  flows, holds each call's streams until the call is over and hands them to the call layer
  (``claim``); RTP that no SDP announced is recognised by its shape (``shape``) and tied to the
  call whose hosts and time it fits;
- ``stream``: one stream's statistics (sequence, loss, jitter, gaps, payload types, comfort
  noise, silence, telephone events), updated per packet and frozen into a ``Stream``;
- ``rtcp``: RTCP compound packets (SR, RR, XR VoIP metrics);
- ``codecs``: payload types, clock rates and G.711 samples;
- ``quality``: the ITU-T G.107 E-model's MOS;
- ``model``: what is handed up (``CapturedMedia``).

No I/O: payloads come in, records go out. The records that travel with a finished call
(``Stream`` and what it holds, and ``dialogs.media``'s reading of them) are NamedTuples: every
call is pickled to the spool and back, and a NamedTuple pickles as its values alone, five times
smaller and faster than a dataclass (which pickles the name of every field).
"""
