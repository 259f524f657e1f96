"""Credential forms composed from parts: a key from the vocabulary, written in a syntax, holding a value
of some shape, obfuscated or not. ``compose`` is plain data in, text out, so the property tests draw
the parts with hypothesis and the lineage test draws them with a seeded ``random.Random``.

A value is made of characters no template word holds (consonants, digits), so a piece of it found in
the output is the value, never a coincidence.
"""

import json
import random
import unicodedata
import urllib.parse
from dataclasses import dataclass

CORE_ALPHABET = "bcdfghjkmnpqrstvwxzBCDFGHJKLMNPQRSTVWXZ23456789"
KEYS = [
    "password",
    "passwd",
    "pass",
    "pwd",
    "pw",
    "passphrase",
    "storepass",
    "keypass",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "api_key",
    "apiKey",
    "access key",
    "auth_token",
    "credential",
    "credentials",
    "sessionid",
    "cookie",
    "requirepass",
    "masterauth",
    "private_key",
    "DB_PASSWORD",
    "db_admin_pw",
    "spring.datasource.password",
    "X-Api-Key",
]
CJK_KEYS = ["密碼", "密码", "口令", "令牌", "金鑰", "パスワード", "비밀번호"]
SYNTAXES = [
    "yaml",
    "yaml_quoted",
    "yaml_block",
    "yaml_next_line",
    "json",
    "json_nested",
    "xml_element",
    "xml_attribute",
    "ini",
    "env",
    "cli_next",
    "cli_equals",
    "url_userinfo",
    "url_query",
    "prose",
    "cjk",
    "ruby_hash",
    "env_list",
    "conninfo",
    "hcl",
]
SHAPES = ["plain", "symbols", "delimiters", "brackets", "quote", "fullwidth", "zero_width", "long"]
OBFUSCATIONS = ["none", "upper", "fullwidth_key", "zero_width_key"]
POSITIONS = ["summary", "reasoning", "step", "label"]


@dataclass(frozen=True)
class Case:
    text: str
    value: str  # as written in the text
    raw: str  # the value itself, as another text of the incident would mention it
    core: str  # the characters that must never reach a file
    position: str


def core_of(rng: random.Random, length: int = 14) -> str:
    """Random characters with a digit and a capital in each half: a credential's look, whichever
    half a shape leaves whole."""
    halves = []
    for size in (length // 2, length - length // 2):
        chars = [rng.choice(CORE_ALPHABET) for _ in range(size - 2)]
        chars += [rng.choice("23456789"), rng.choice("BCDFGHJKLMNPQRSTVWXZ")]
        rng.shuffle(chars)
        halves.append("".join(chars))
    return "".join(halves)


def shaped(core: str, shape: str) -> str:
    half = len(core) // 2
    return {
        "plain": core,
        "symbols": f"{core[:half]}!%{core[half:]}^",
        "delimiters": f"{core[:half]}@/#?,;&{core[half:]}",
        "brackets": f"{core[:half]}(x]{core[half:]}",
        "quote": f"{core[:half]}\"'{core[half:]}",
        "fullwidth": core[:half] + "".join(chr(ord(c) + 0xFEE0) for c in core[half:]),
        "zero_width": f"{core[:half]}\u200b{core[half:]}",
        "long": core * 6,
    }[shape]


def obfuscated(key: str, obfuscation: str) -> str:
    if obfuscation == "upper":
        return key.upper()
    if obfuscation == "fullwidth_key":
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in key)
    if obfuscation == "zero_width_key" and len(key) > 2:
        return key[:2] + "\u200b" + key[2:]
    return key


def _identifier(key: str) -> str:
    return key.replace(" ", "_").replace(".", "_").replace("-", "_")


def _double_quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _single_quoted_shell(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def written(syntax: str, key: str, value: str) -> tuple[str, str]:
    """(the text, the value as it stands in it) for a key and value in one syntax."""
    ident = _identifier(key)
    if syntax == "yaml":
        plain = not any(c in value for c in "\"'#:[]{},&!%@`|>")
        shown = value if plain else _double_quoted(value)
        return f"app:\n  {key}: {shown}\n  pool: 5", shown
    if syntax == "yaml_quoted":
        shown = "'" + value.replace("'", "''") + "'"
        return f"{key}: {shown}\nretries: 3", shown
    if syntax == "yaml_block":
        return f"config:\n  {key}: |\n    {value}\n  user: app", value
    if syntax == "yaml_next_line":
        shown = value if not value.lstrip().startswith(("-", "#", "'", '"')) else _double_quoted(value)
        return f"db:\n  {key}:\n    {shown}\n  host: db-1", shown
    if syntax == "json":
        shown = json.dumps(value, ensure_ascii=False)
        return '{"user": "app", ' + json.dumps(key) + ": " + shown + ', "pool": 5}', shown
    if syntax == "json_nested":
        document = json.dumps({"db": {"auth": {key: value}, "host": "db-1"}}, ensure_ascii=False)
        return f"settings loaded: {document}", json.dumps(value, ensure_ascii=False)
    if syntax == "xml_element":
        tag = ident if ident[:1].isalpha() else f"x{ident}"
        shown = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f"<config><{tag}>{shown}</{tag}><port>5432</port></config>", shown
    if syntax == "xml_attribute":
        shown = value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
        return f'<datasource user="app" {ident}="{shown}" port="5432"/>', shown
    if syntax == "ini":
        return f"[client]\n{key} = {value}\nhost = db-2", value
    if syntax == "env":
        shown = _single_quoted_shell(value)
        return f"export {ident.upper()}={shown}\nexport PORT=8080", shown
    if syntax == "cli_next":
        shown = _single_quoted_shell(value)
        return f"./deploy.sh --env prod --{ident.replace('_', '-').lower()} {shown} --force", shown
    if syntax == "cli_equals":
        shown = _single_quoted_shell(value)
        return f"run-migrations --{ident.replace('_', '-').lower()}={shown} --yes", shown
    if syntax == "url_userinfo":
        return f"DSN postgresql://orders:{value}@pg-primary.prod:5432/orders refused connection", value
    if syntax == "url_query":
        shown = urllib.parse.quote(value, safe="")
        return f"GET https://api.internal/v1/export?{urllib.parse.quote(ident)}={shown}&page=2 returned 500", shown
    if syntax == "prose":
        return f"the {key} is {value} and it was rotated", value
    if syntax == "cjk":
        return f"DBA 回報：資料庫{key}：{value}，請盡快更換。", value
    if syntax == "ruby_hash":
        return "{:" + ident + " => " + _double_quoted(value) + ", :port => 5432}", _double_quoted(value)
    if syntax == "env_list":
        shown = _double_quoted(value)
        return f"env:\n  - name: {ident.upper()}\n    value: {shown}\n  - name: DB_HOST\n    value: db", shown
    if syntax == "conninfo":
        shown = "{" + value.replace("}", "}}") + "}"
        return f"Driver={{ODBC Driver 18}};Server=db;UID=sa;{ident}={shown};Encrypt=yes", shown
    if syntax == "hcl":
        return f'resource "db" "main" {{\n  {ident} = {_double_quoted(value)}\n}}', _double_quoted(value)
    raise ValueError(syntax)


def compose(key: str, syntax: str, shape: str, obfuscation: str, position: str, rng: random.Random) -> Case:
    core = core_of(rng)
    value = shaped(core, shape)
    if syntax == "cjk":
        key = CJK_KEYS[len(key) % len(CJK_KEYS)]
    if syntax == "url_query" and obfuscation != "upper":
        obfuscation = "none"  # a query key is percent-encoded ASCII: a full-width one is not a key
    text, shown = written(syntax, obfuscated(key, obfuscation), value)
    return Case(text, shown, value, core, position)


def draw(rng: random.Random) -> Case:
    return compose(
        rng.choice(KEYS),
        rng.choice(SYNTAXES),
        rng.choice(SHAPES),
        rng.choice(OBFUSCATIONS),
        rng.choice(POSITIONS),
        rng,
    )


HEX = frozenset("0123456789abcdefABCDEF")


def pieces(core: str) -> list[str]:
    """Runs of the core long enough to be the secret and not chance: a third of it, at least five, and
    not all hexadecimal (a file's sha256 holds any such run); the whole core if no run qualifies."""
    size = max(5, len(core) // 3)
    runs = [core[i : i + size] for i in range(len(core) - size + 1)]
    return [run for run in runs if not set(run) <= HEX] or [core]


def leaked(core: str, text: str) -> bool:
    """Whether a piece of the core is in the text as a person reads it (full-width folded, invisible
    characters dropped)."""
    read = unicodedata.normalize("NFKC", text).replace("\u200b", "")
    return any(piece in read for piece in pieces(core))
