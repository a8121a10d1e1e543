"""Errors that mean "the input is wrong", each with a hint a person can act on.

The web layer turns :class:`GeoInputError` into a 4xx JSON answer
(``{"error": ..., "hint": ...}`` with :attr:`GeoInputError.status`); a notebook
user sees the same message.

Examples
--------
>>> e = GeoInputError("the file is empty", hint="upload a GeoJSON, zip or CSV file")
>>> e.status, str(e)
(400, 'the file is empty')
"""

from __future__ import annotations


class GeoInputError(ValueError):
    """Bad input: wrong format, unreadable file, impossible parameter.

    Parameters
    ----------
    message : str
        What is wrong, in one sentence.
    hint : str
        How to fix it.
    status : int
        HTTP status the web layer should answer with (400 bad request, 413 too
        large, 415 unsupported format, 422 understood but unusable).
    """

    def __init__(self, message: str, hint: str = "", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.status = status

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form: ``{"error": message, "hint": hint}``."""
        return {"error": self.message, "hint": self.hint}
