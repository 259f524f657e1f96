"""Values that no secret looks like, and values that look like a credential.

A key in a credential position is only half the story: ``auth: enabled``, ``password: true``,
``pwd=/var/lib/app``, ``token_ttl: 3600``, ``password: ${DB_PASSWORD}`` and ``password: ********`` name
no secret. Every test here is anchored RE2 or plain string work on one short value.
"""

from re2 import compile as re2_compile

PLACEHOLDER_START = "[REDACTED:"
# Longer values are judged by their characters only: a shape is short.
SHAPE_LIMIT = 512

_BOOLEAN_OR_EMPTY = frozenset(
    "true false yes no on off enabled disabled enable disable null none nil undefined empty n/a na "
    "required optional unset default auto".split()
)
# Words that stand in for a value in masked output and documentation; bracketed (<password>,
# {token}) any vocabulary word is one too.
_MASK_WORDS = frozenset(
    "redacted hidden masked removed omitted filtered sanitized scrubbed notset not-set not_set placeholder "
    "your-password your_password yourpassword your-token your-secret your-api-key".split()
)
_BRACKETED_MASK_WORDS = frozenset("password passwd secret token key value pass pw pwd api-key apikey".split())
_MASK_CHARS = frozenset("*•·xX.#-_?")
_UNIT = r"(?:%|[kKMGTPE]i?[bB]?|[kKMG]?bps|ms|us|ns|s|sec|m|min|h|d|w|y|px|rps|qps|chars?|bytes?|x)"

# Shapes that are never a secret, whatever the key.
_ALWAYS = re2_compile(
    r"(?:"
    r"v?\d+(?:\.\d+){1,3}(?:[-+][0-9A-Za-z.]+)?"  # versions: v1.2.3, 1.2.3-rc1
    r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"  # dates
    r"|\d{1,2}:\d{2}(?::\d{2})?"  # clock times
    r"|[-+]?\d+(?:\.\d+)?" + _UNIT + r"|[-+]?\d{1,3}"  # sizes and durations (512Mi, 30s), small numbers
    # variable and template references: ${DB_PASSWORD}, $DB_PASSWORD, $(cat f), {{ .Values.pw }},
    # %(pw)s, <%= pw %>, #{pw}, %PW%, env:VAR, file:/path, fd:3, stdin, - (read from stdin)
    r"|\$\{[^}]*\}|\$[A-Z_][A-Z0-9_]*|\$\([^)]*\)|\{\{[^}]*\}\}|%\([A-Za-z0-9_]+\)[sd]|<%=?[^%]*%>"
    r"|#\{[^}]*\}|%[A-Za-z_][A-Za-z0-9_]*%|(?:env|file|fd):\S+|stdin|-"
    # paths of two parts or more: /var/lib/app, ~/.ssh/id_rsa, ./secrets/db, C:\keys\app.pfx
    r"|/(?:[A-Za-z0-9_.@+-]+/)+[A-Za-z0-9_.@+-]*|(?:~|\.{1,2})/[A-Za-z0-9_.@+/-]*|[A-Za-z]:\\[^\s]*"
    # file names: tls.key, client.pem, app-secrets.yaml
    r"|[A-Za-z0-9_.-]+\.(?:pem|key|crt|cer|csr|der|p12|pfx|jks|keystore|truststore|asc|gpg|pgp|pub|env|ini"
    r"|cfg|conf|json|ya?ml|toml|xml|properties|txt|log|sh|py|kdbx|ovpn)"
    # URLs without user information
    r"|[A-Za-z][A-Za-z0-9+.-]*://[^\s@/]+(?:[/?#][^\s]*)?"
    # where a secret lives, not the secret: an ARN, a Vault or Secrets Manager path
    r"|arn:aws[a-z-]*:[^\s]+|(?:secret|kv|vault)/[A-Za-z0-9_./-]+"
    r")"
)
# Shapes that are no secret after a weak key (auth, key, session): a password of digits, or one that
# reads like a host name, is still redacted after ``password``.
_WEAK_ONLY = re2_compile(
    r"(?:[-+]?\d+(?:\.\d+)?"  # any number
    r"|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}"  # host names
    r"|[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)+(?:[:@/]v?\d[\w.-]*)?"  # image refs
    r"|[a-z]+(?:[-_.][a-z]+)*[-_.]v?\d+(?:\.\d+)*"  # ldap-v3, gpt-4, worker-3
    r")"
)
_LOWER_WORDS = re2_compile(r"[a-z]+(?:[-_ ][a-z]+)*")
_NAME_WORDS = re2_compile(r"[A-Za-z][a-z]+(?:[-_ ]?[A-Za-z][a-z]+)*")


def is_placeholder(value: str) -> bool:
    return value.strip("\"'` ").startswith(PLACEHOLDER_START)


def is_mask(value: str) -> bool:
    """``********``, ``xxxx``, ``<redacted>``, ``(hidden)``, ``<password>``, ``your-password``."""
    stripped = value.strip("\"'` ")
    bare = stripped.strip("<>()[]{}").lower()
    if not bare:
        return True
    if all(char in _MASK_CHARS for char in bare):
        return True
    if bare in _MASK_WORDS or bare.replace(" ", "-") in _MASK_WORDS or bare.startswith(("your ", "your-", "your_")):
        return True
    bracketed = len(stripped) >= 2 and stripped[0] in "<{[(" and stripped[-1] in ">}])"
    return bracketed and bare.replace(" ", "-") in _BRACKETED_MASK_WORDS


def never_a_secret(value: str, strong: bool = True) -> bool:
    """A boolean, a version, a date, a reference or variable, a path, a file name, a URL without user
    information, a mask or a placeholder; after a weak key also any number, a host name, an image
    reference or a word with a version."""
    if not value or is_placeholder(value) or is_mask(value):
        return True
    if value.lower() in _BOOLEAN_OR_EMPTY:
        return True
    if len(value) > SHAPE_LIMIT:
        return False
    return bool(_ALWAYS.fullmatch(value)) or (not strong and bool(_WEAK_ONLY.fullmatch(value)))


def looks_like_credential(value: str) -> bool:
    """What a weak key's value, or a value found by prose or white space alone, must look like: six
    characters or more, no shape of a non-secret, and not plain words (``enabled``, ``Kubernetes``):
    digits among letters, a symbol, or capitals inside."""
    if len(value) < 6 or never_a_secret(value, strong=False):
        return False
    if len(value) <= SHAPE_LIMIT and (_LOWER_WORDS.fullmatch(value) or _NAME_WORDS.fullmatch(value)):
        return False
    has_letter = any(char.isalpha() for char in value)
    has_digit = any(char.isdigit() for char in value)
    has_symbol = any(not char.isalnum() for char in value)
    inner_capital = any(char.isupper() for char in value[1:]) and any(char.islower() for char in value)
    if not has_letter:
        return has_symbol and has_digit and len(value) >= 8
    return has_digit or has_symbol or inner_capital
