"""``sipdiag ui``: an interactive terminal UI (Textual) over a capture's calls, each with its
diagnosis: ``app.SipdiagApp``. Textual is an optional dependency (``pip install
'sipdiag[ui]'``); only this package imports it, and nothing imports this package but
``cli.ui``, once it has checked Textual is there."""
