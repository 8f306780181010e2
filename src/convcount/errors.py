"""One exception family for everything convcount refuses."""

from __future__ import annotations


class ConvcountError(ValueError):
    """A layer, a value or an input that convcount refuses.

    The message is one sentence that names the option and the rule, written
    with the command-line spelling of the option (``--groups 3 must divide
    --in-channels 10``) so that the library, the CLI and batch files all say
    the same thing.
    """

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        #: The field the error is about, in Python spelling (``in_channels``).
        self.option = option
        #: The sentence shown to the user.
        self.message = message

    def __str__(self) -> str:
        return self.message


def flag(option: str) -> str:
    """The command-line spelling of a field name: ``in_channels`` -> ``--in-channels``."""
    return "--" + option.replace("_", "-")
