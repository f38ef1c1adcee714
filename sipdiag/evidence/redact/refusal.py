"""Why something is left out of a redacted capture."""


class Unredactable(Exception):
    """A frame or payload that cannot be redacted safely: it is left out, with this reason."""
