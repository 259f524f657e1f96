"""Texts embedded in a JSON document: a label, a step or a decision stored as JSON holds whole texts
(YAML, a shell command, a log line) inside its strings, escaped (``\\n``, ``\\"``) and ending at a
quote the text itself does not have. Each is read as the text it is, so a secret inside is found as it
would be written on its own; its escaped form is then found again in the document by value."""

import json

# A document larger than this is read only as written: the rules still see its keys and values.
DOCUMENT_LIMIT = 4_000_000
# A shorter string holds no key and value: the document as written shows it whole.
SHORTEST_TEXT = 8


def embedded_texts(text: str) -> list[str]:
    """The strings of ``text`` read as JSON; none if it is not a JSON object or array."""
    stripped = text.lstrip()
    if stripped[:1] not in ("{", "[") or len(text) > DOCUMENT_LIMIT:
        return []
    try:
        document = json.loads(text)
    except ValueError:
        return []
    found, pending = [], [document]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and len(item) >= SHORTEST_TEXT:
            found.append(item)
    return found


def escaped(value: str) -> list[str]:
    """How a value stands inside a JSON string, if escaping changes it."""
    inside = json.dumps(value, ensure_ascii=False)[1:-1]
    return [inside] if inside != value else []
