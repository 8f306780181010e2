"""One exception family for everything convcount refuses, and the exit codes."""

from __future__ import annotations

# Exit codes (README, "Exit codes"): every run of the CLI ends with one of these.
#: Done.
EXIT_OK = 0
#: A batch finished, but some of its rows were bad (each has its error in the output).
EXIT_BAD_ROWS = 1
#: Bad input or usage: one line on stderr, nothing on stdout.
EXIT_USAGE = 2
#: Output could not be written (stdout or stderr closed, disk full) or input
#: could not be read past its start; like sysexits' EX_IOERR.
EXIT_IO = 74
#: Interrupted (Ctrl-C, SIGINT): 128 + 2, as a shell reports it.
EXIT_INTERRUPTED = 130
#: Standard output is a pipe whose reader has gone (``| head``): 128 + SIGPIPE, quietly.
EXIT_CLOSED_PIPE = 141

#: Longest name or value quoted whole in a message; longer ones are cut.
SHOWN_CHARS = 60


class ConvcountError(ValueError):
    """A layer, a value or an input that convcount refuses.

    The message is one sentence that names the option and the rule, written
    with the command-line spelling of the option (``--groups 3 must divide
    --in-channels 10``) so that the library, the CLI and batch files all say
    the same thing. Control characters in it (from a user's key or value) are
    escaped, so it is always one line that a terminal shows as written.
    """

    def __init__(self, option: str, message: str) -> None:
        message = printable(message)
        super().__init__(message)
        #: The field the error is about, in Python spelling (``in_channels``).
        self.option = option
        #: The sentence shown to the user.
        self.message = message

    def __str__(self) -> str:
        return self.message


def printable(text: str) -> str:
    """``text`` with every character a terminal would not print as-is escaped.

    Newlines, tabs, escape sequences (ANSI colours), other control and format
    characters, line separators and lone surrogates become ``\\n``, ``\\x1b``,
    ``\\u2028``, ... as in a Python string literal; everything else is kept.
    """
    if text.isprintable():
        return text  # the common case, at C speed
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii")
        for c in text
    )


def clip(text: str, limit: int = SHOWN_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def flag(option: str) -> str:
    """The command-line spelling of a field name: ``in_channels`` -> ``--in-channels``."""
    return "--" + clip(option).replace("_", "-")


class InputReadError(Exception):
    """The input could not be read: an I/O error, not bad input (exit code 74)."""

    def __init__(self, source: str, error: OSError) -> None:
        self.message = printable(f"{clip(source)} could not be read: {error.strerror or error}")
        super().__init__(self.message)
