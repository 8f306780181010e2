"""The bounds convcount keeps on what it reads and prints (the README's "Limits").

Every input is refused past these, with one sentence, before anything is
allocated for it; none of them is near a real network's figures.
"""

from __future__ import annotations

#: Digits of any integer read: an option, a batch field or a model file's value
#: (leading zeros aside). A googol minus one is the largest accepted; every
#: answer built from such inputs stays far below :data:`MAX_ANSWER_DIGITS`.
MAX_DIGITS = 100

#: Digits of any answer printed. Python's own limit for converting integers to
#: text (``sys.int_info.default_max_str_digits``); the CLI sets it explicitly so
#: that PYTHONINTMAXSTRDIGITS cannot change what prints. A larger answer (only a
#: model file can build one, e.g. through a long chain of ``expand``) is refused.
MAX_ANSWER_DIGITS = 4300

#: Bytes of one batch input line, without its line ending. A longer line is that
#: row's error; the rest of it is read past without being kept.
MAX_ROW_BYTES = 65_536

#: Bytes of a model file; a larger one is refused before it is parsed.
MAX_MODEL_FILE_BYTES = 1_048_576

#: Worker processes per core that `batch -j/--jobs` may start; more are capped.
MAX_JOBS_PER_CORE = 4
