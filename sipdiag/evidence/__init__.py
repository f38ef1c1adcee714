"""Evidence to hand on: the frames of chosen calls copied into a capture of their own
(``export``), and captures whose identifiers are replaced by pseudonyms (``redact``).

Above the analysis (export chooses calls by their results) and below the user interfaces; it
reads and writes capture files, and draws nothing."""
