"""One exception family for everything convcount refuses, and the exit codes.

A rule is written once and spelled for where the input came from. Inside a
message, a field is written with :func:`flag`, which leaves a mark that is
spelled when the message is shown: ``--in-channels`` (or ``-i/--in-channels``)
on the command line and from the Python API, ``in_channels`` for a batch row
or a model file, whose users never typed a flag::

    raise ConvcountError("groups", f"{flag('groups')} 3 must divide {flag('in_channels')} 10")
    str(error)              # '--groups 3 must divide --in-channels 10'
    error.spelled("field")  # 'groups 3 must divide in_channels 10'
"""

from __future__ import annotations

from typing import Literal

Spelling = Literal["flag", "field"]

# A field reference inside a message: \x1f[short/]name\x1f, so that splitting a
# message on the mark puts the references at the odd places. A control
# character never appears unquoted in a value a person types.
_MARK = "\x1f"

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

    The message is one sentence that names the option and the rule. ``str()``
    spells fields as command-line flags (``--groups 3 must divide
    --in-channels 10``), as the CLI and the Python API show them;
    :meth:`spelled` gives the same sentence for another source.
    """

    def __init__(self, option: str, message: str) -> None:
        super().__init__(message)
        #: The field the error is about, in Python spelling (``in_channels``).
        self.option = option
        #: The sentence with its field marks (see :func:`flag`).
        self.template = message

    @property
    def message(self) -> str:
        """The sentence as the command line shows it."""
        return self.spelled("flag")

    def spelled(self, spelling: Spelling) -> str:
        """The sentence with fields as flags (``--in-channels``) or as fields (``in_channels``)."""
        pieces = self.template.split(_MARK)
        for i, piece in enumerate(pieces):
            if i % 2 == 0:
                # Control characters (from a user's key or value) are escaped, so a
                # message is always one line that a terminal shows as written.
                pieces[i] = printable(piece)
                continue
            short, _, name = piece.rpartition("/")
            name = printable(clip(name))
            if spelling == "field":
                pieces[i] = name
            else:
                pieces[i] = f"{short}/{_as_flag(name)}" if short else _as_flag(name)
        return "".join(pieces)

    def within(self, where: str) -> ConvcountError:
        """The same error placed in its context (``"tiny.toml: layer 3 'c'"``), marks kept."""
        return ConvcountError(self.option, f"{where}: {self.template}")

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


def _as_flag(option: str) -> str:
    return "--" + option.replace("_", "-")


def flag(option: str, short: str | None = None) -> str:
    """A field named in a message, spelled when shown (see :class:`ConvcountError`).

    ``short`` adds the short flag on the command line: ``flag("groups", "-g")``
    reads ``-g/--groups`` there and ``groups`` in a file.
    """
    return f"{_MARK}{short + '/' if short else ''}{option}{_MARK}"


#: Spellings people type for a word convcount spells otherwise: suggested, never
#: taken silently (``float`` could mean float32 or float64; Python's float is 64-bit,
#: but a framework's default float is 32-bit).
SPELLINGS: dict[str, str] = {
    "fp16": "float16",
    "half": "float16",
    "f16": "float16",
    "bf16": "bfloat16",
    "bfloat": "bfloat16",
    "fp32": "float32",
    "f32": "float32",
    "float": "float32",
    "single": "float32",
    "fp64": "float64",
    "f64": "float64",
    "double": "float64",
    "i8": "int8",
    "tf": "keras",
    "tensorflow": "keras",
    "tf.keras": "keras",
    "keras3": "keras",
    "pytorch": "torch",
    "pt": "torch",
    "th": "torch",
}


def did_you_mean(word: object, choices: tuple[str, ...] | list[str], *, as_field: bool) -> str:
    """`` (did you mean stride?)`` when ``word`` is close to one of ``choices`` (or a
    known other spelling of one: :data:`SPELLINGS`), else ``""``."""
    if not isinstance(word, str):
        return ""
    spelled = SPELLINGS.get(word.strip().lower())
    if spelled is not None and spelled in choices:
        return f" (did you mean {flag(spelled) if as_field else spelled}?)"
    from difflib import get_close_matches  # only on the way to an error message

    close = get_close_matches(word.strip().lower(), choices, n=1, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean {flag(close[0]) if as_field else close[0]}?)"


class InputReadError(Exception):
    """The input could not be read: an I/O error, not bad input (exit code 74)."""

    def __init__(self, source: str, error: OSError) -> None:
        self.message = printable(f"{clip(source)} could not be read: {error.strerror or error}")
        super().__init__(self.message)
