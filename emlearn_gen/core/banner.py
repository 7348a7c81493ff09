"""Lines of the comment banner at the top of generated headers."""

from __future__ import annotations

from typing import List, Sequence

#: Width of a banner line's text, after "// ".
LINE_WIDTH = 96
#: A model with many features lists the first ones only; the header is code,
#: not a data dictionary (CModel.feature_names_in_ has them all).
MAX_LINES = 4
#: Longer names are cut so that one name cannot fill the banner.
MAX_NAME = 40


def _short(name: str) -> str:
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 3] + "..."


def feature_name_lines(names: Sequence[str]) -> List[str]:
    """The feature names in input order, wrapped into at most MAX_LINES
    lines of LINE_WIDTH characters, so that firmware authors can see which
    value goes where in ``x``. Empty when the estimator has no names.

    The lines still go through the template's comment filter.
    """
    if len(names) == 0:
        return []
    more_room = len(f" ... and {len(names)} more")
    lines: List[str] = []
    current = f"Features (x[0] to x[{len(names) - 1}]):"
    for index, name in enumerate(names):
        final = index == len(names) - 1
        item = " " + _short(str(name)) + ("" if final else ",")
        on_last_line = len(lines) == MAX_LINES - 1
        # The last line keeps room to say how many names are left out.
        room = LINE_WIDTH - (more_room if on_last_line and not final else 0)
        if len(current) + len(item) <= room:
            current += item
        elif on_last_line:
            lines.append(f"{current} ... and {len(names) - index} more")
            return lines
        else:
            lines.append(current)
            current = " " + item
    lines.append(current)
    return lines
