"""One exception family for everything convcount refuses.

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
        for i in range(1, len(pieces), 2):
            short, _, name = pieces[i].rpartition("/")
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


def _as_flag(option: str) -> str:
    return "--" + option.replace("_", "-")


def flag(option: str, short: str | None = None) -> str:
    """A field named in a message, spelled when shown (see :class:`ConvcountError`).

    ``short`` adds the short flag on the command line: ``flag("groups", "-g")``
    reads ``-g/--groups`` there and ``groups`` in a file.
    """
    return f"{_MARK}{short + '/' if short else ''}{option}{_MARK}"


def did_you_mean(word: object, choices: tuple[str, ...] | list[str], *, as_field: bool) -> str:
    """`` (did you mean stride?)`` when ``word`` is close to one of ``choices``, else ``""``."""
    if not isinstance(word, str):
        return ""
    from difflib import get_close_matches  # only on the way to an error message

    close = get_close_matches(word.strip().lower(), choices, n=1, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean {flag(close[0]) if as_field else close[0]}?)"
