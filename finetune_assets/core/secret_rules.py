"""The secrets the redactor knows by their own shape, as RE2 patterns, each with where it comes from;
and what the column scan looks for to find where a context rule (``credentials``) may find one.

Each rule's pattern names the secret with a group ``(?P<secret>…)``; what it matched around the
secret (``Bearer``, a key name) stays in front of or after the placeholder. Vendor token formats come
from detect-secrets, a maintained scanner, read from its plugins when the redactor is built, so an
upgrade brings new formats; this project adds password hashes, private keys, JWTs and vendors it does
not know. Where two rules find the same secret, the earlier one names it: a token is named by its
vendor, not by the key it was assigned to.
"""

import re
from dataclasses import dataclass

from .credentials.command_table import STDIN_TOOLS, TOOLS
from .credentials.keyed import CJK_KEYS

OURS = "finetune_assets"


@dataclass(frozen=True)
class SecretRule:
    kind: str
    pattern: str
    source: str = OURS
    # A shape with no fixed text to anchor on (a run of 40 key characters, digits then a colon): in
    # one RE2 union with the anchored rules, these make it fall back from its fast automaton, so the
    # column scan looks for them in a union of their own.
    shape: bool = False


STRUCTURAL = (
    SecretRule(
        "private_key",
        r"(?s)(?P<secret>-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:.*?-----END [A-Z0-9 ]*PRIVATE KEY-----|.*))",
    ),
    SecretRule(
        "authorization",
        r"(?i:authorization)[\"']?[ \t]*[:=][ \t]*[\"']?(?i:bearer|basic|token|digest)[ \t]+"
        r"(?P<secret>[A-Za-z0-9._~+/=-]+)",
    ),
    SecretRule("bearer_token", r"(?i:\bbearer)[ \t]+(?P<secret>[A-Za-z0-9._~+/-]*[0-9._~+/-][A-Za-z0-9._~+/-]*=*)"),
)
PASSWORD_HASHES = (
    SecretRule("password_hash", r"(?P<secret>\$(?:1|5|6|apr1)\$[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{20,})"),
    SecretRule("password_hash", r"(?P<secret>\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53})"),
    SecretRule("password_hash", r"(?P<secret>\$y\$[./A-Za-z0-9]+\$[./A-Za-z0-9]+\$[./A-Za-z0-9]{20,})"),
    SecretRule(
        "password_hash", r"(?P<secret>\$argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+)"
    ),
    SecretRule("password_hash", r"(?P<secret>\$pbkdf2(?:-sha\d+)?\$\d+\$[./A-Za-z0-9+]+\$[./A-Za-z0-9+]+)"),
    SecretRule("password_hash", r"(?P<secret>\{S?SHA\}[A-Za-z0-9+/]{20,}={0,2})"),
)
# Vendors the maintained rule set does not know, or not in every form (test keys, newer prefixes).
VENDOR_TOKENS = (
    SecretRule("stripe_key", r"\b(?P<secret>[sr]k_(?:live|test)_[0-9a-zA-Z]{16,})"),
    SecretRule("google_api_key", r"\b(?P<secret>AIza[0-9A-Za-z_-]{35})"),
    SecretRule("azure_sas_signature", r"[?&](?i:sig)=(?P<secret>[A-Za-z0-9%+/=]{20,})"),
    SecretRule("azure_storage_key", r"(?i:AccountKey)=(?P<secret>[A-Za-z0-9+/=]{40,})"),
    SecretRule("vault_token", r"\b(?P<secret>hv[sbr]\.[A-Za-z0-9_-]{24,}|s\.[A-Za-z0-9]{24}\b)"),
    SecretRule("huggingface_token", r"\b(?P<secret>hf_[A-Za-z0-9]{30,})"),
    SecretRule("anthropic_api_key", r"\b(?P<secret>sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{20,})"),
    SecretRule("npm_token", r"\b(?P<secret>npm_[A-Za-z0-9]{36})"),
    SecretRule(
        "github_token", r"\b(?P<secret>(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"
    ),
    SecretRule("gitlab_token", r"\b(?P<secret>gl(?:pat|dt|rt|ptt|ft|cbt|imt|oas|soat)-[A-Za-z0-9_-]{20,})"),
    SecretRule(
        "slack_token", r"\b(?P<secret>xox[abposr]-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/services/[A-Za-z0-9/]+)"
    ),
    SecretRule("openai_api_key", r"\b(?P<secret>sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,})"),
    SecretRule("jwt", r"\b(?P<secret>eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)"),
    SecretRule(
        "aws_access_key_id", r"\b(?P<secret>(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ABIA|ACCA)[A-Z0-9]{16})\b"
    ),
    SecretRule(
        "aws_secret_access_key",
        r"(?i:aws_?secret_?(?:access_?)?key)[\"']?[ \t]*[:=][ \t]*[\"']?(?P<secret>[A-Za-z0-9/+]{40})",
    ),
)
# A bare 40-character key in AWS's alphabet; it is redacted only if it also looks random
# (``looks_like_aws_secret``), so base64 fingerprints and hashes in prose stay.
BARE_AWS_SECRET = SecretRule(
    "aws_secret_access_key", r"(?:^|[^A-Za-z0-9/+=])(?P<secret>[A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+=])", shape=True
)
EMAIL = SecretRule("email", r"(?P<secret>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})")


def _alternatives(words) -> str:
    return "|".join(re.escape(word) for word in sorted(set(words), key=len, reverse=True))


# A tool followed on its line by one of the options or subcommands that can carry a secret: a tool's
# name alone (``kubectl rollout restart …`` in every executed step) sends no row to be read one by one.
_CLUES = {option for tool in TOOLS.values() for option in tool.options} | {
    words[0] for tool in TOOLS.values() for words in tool.positional if words
}
TOOL_ANCHORS = (
    rf"\b(?:{_alternatives(TOOLS)})\b[^\n]*?\s(?:{_alternatives(_CLUES)}|set\b|SET\b)",
    # Tools whose secret is a positional argument whatever follows, and secrets given on standard input.
    r"\b(?:htpasswd|sqlplus|wpa_passphrase)\b",
    rf"\|[ \t]*(?:sudo[ \t]+)?\S*\b(?:{_alternatives(STDIN_TOOLS)})\b|<<<",
)
# Where a context rule may find something: a credential word (inside any key), a URL with user
# information, a .pgpass line, a CJK key word, a tool with secret options, and characters that fold
# to ASCII (full-width or styled letters, invisible characters) that may hide any of these.
CONTEXT_ANCHORS = (
    r"(?i:pass|pwd|\bpw|pw\b|secret|token|key|auth|cred|cookie|sess|\bsid\b|communit|psk|\bsig\b|signature"
    r"|identified)",
    r"://\S*@",
    r"[A-Za-z0-9*\]]:(?:\d{1,5}|\*):[A-Za-z0-9_*][A-Za-z0-9_.\-*]*:[A-Za-z0-9_*]",
    CJK_KEYS,
    *TOOL_ANCHORS,
    r"[\x{ff10}-\x{ff19}\x{ff21}-\x{ff3a}\x{ff41}-\x{ff5a}\x{1d400}-\x{1d7ff}\x{2460}-\x{24ff}\x{1f130}-\x{1f189}"
    r"\x{2100}-\x{214f}\x{2070}-\x{209f}\x{fb00}-\x{fb06}\x{fe50}-\x{fe6b}\x{200b}-\x{200f}\x{2060}-\x{2064}"
    r"\x{feff}\x{00ad}\x{180e}]",
    r"\\u[0-9a-fA-F]{4}",  # a JSON escape may spell a key word
)
# Kept by default: the model needs addresses and host names to reason about an incident.
NETWORK = (
    SecretRule("ip_address", r"\b(?P<secret>(?:\d{1,3}\.){3}\d{1,3})\b"),
    # IPv6 in full (eight groups) or shortened with "::"; clock times such as 12:30:45 stay.
    SecretRule(
        "ip_address",
        r"\b(?P<secret>[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){7}"
        r"|[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4})*::(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4})*)?)\b",
    ),
    SecretRule("hostname", r"\b(?P<secret>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})\b"),
)

# detect-secrets plugins whose patterns serve here (vendor token formats). Left out: the entropy and
# keyword plugins (this project's own rules decide those), Artifactory (its "AP…" pattern takes
# ordinary words), the IP detector (network masking is a policy), and patterns RE2 cannot run.
SHAPE_PLUGINS = {"DiscordBotTokenDetector", "MailchimpDetector", "TelegramBotTokenDetector", "TwilioKeyDetector"}
# What the column scan looks for in place of a shape: a wider pattern every match of the shape holds.
# Even in a union of their own, the shapes' counted runs outgrow RE2's automaton on text dense with
# tokens (5 MB/s against 600 MB/s); these do not. Keyed by the exact pattern, so a shape a later
# detect-secrets writes differently is scanned for as it is.
WIDER_SHAPES = {
    r"[MNO][a-zA-Z\d_-]{23,25}\.[a-zA-Z\d_-]{6}\.[a-zA-Z\d_-]{27}": r"\.[a-zA-Z\d_-]{6}\.",
    r"[0-9a-z]{32}-us[0-9]{1,2}": r"-us[0-9]",
    r"\d{8,10}:[0-9A-Za-z_-]{35}": r"\d{8}:",
    r"(?:^|[^A-Za-z0-9/+=])(?P<secret>[A-Za-z0-9/+]{40})(?:$|[^A-Za-z0-9/+=])": r"[A-Za-z0-9/+]{40}",
}
MAINTAINED_PLUGINS = {
    "AWSKeyDetector": "aws_key",
    "AzureStorageKeyDetector": "azure_storage_key",
    "BasicAuthDetector": "url_credentials",
    "CloudantDetector": "cloudant_credentials",
    "DiscordBotTokenDetector": "discord_bot_token",
    "GitHubTokenDetector": "github_token",
    "JwtTokenDetector": "jwt",
    "MailchimpDetector": "mailchimp_api_key",
    "NpmDetector": "npm_token",
    "OpenAIDetector": "openai_api_key",
    "PypiTokenDetector": "pypi_token",
    "SendGridDetector": "sendgrid_api_key",
    "SlackDetector": "slack_token",
    "SoftlayerDetector": "softlayer_credentials",
    "SquareOAuthDetector": "square_oauth_secret",
    "StripeDetector": "stripe_key",
    "TelegramBotTokenDetector": "telegram_bot_token",
    "TwilioKeyDetector": "twilio_api_key",
}


def maintained_rules() -> tuple[SecretRule, ...]:
    """The vendor patterns of the detect-secrets plugins above, as its installed version has them.

    A plugin's pattern names no secret group: where its first group starts after the match does (a
    key name or ``://user:`` before it), that group is the secret; otherwise the whole match is."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    plugins = {cls.__name__: cls for cls in get_mapping_from_secret_type_to_class().values()}
    rules = []
    for name, kind in MAINTAINED_PLUGINS.items():
        for compiled in getattr(plugins[name](), "denylist", ()):
            if _re2_can_run(compiled.pattern):
                source = f"detect-secrets {name}"
                rules.append(SecretRule(kind, compiled.pattern, source, shape=name in SHAPE_PLUGINS))
    return tuple(rules)


def _re2_can_run(pattern: str) -> bool:
    """Lookarounds are Python-only; RE2 also caps repetition counts at 1,000."""
    return not any(marker in pattern for marker in ("(?<", "(?=", "(?!", "(?#")) and "1024}" not in pattern
