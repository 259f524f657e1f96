"""Which names hold a credential: a key is read as a person reads it, a word at a time.

``DB_PASSWORD``, ``dbPassword``, ``db-admin-pw``, ``spring.datasource.password``, ``X-Auth-Token``
and ``requirepass`` are split into words; a key names a credential when one of its words (or two
words read together: ``api`` ``key``) is in the vocabulary, and its last word does not turn it into
something else: ``passwordPolicy``, ``token_expiry``, ``secretName``, ``AUTH_TYPE`` and
``password_file`` name a policy, a date, a reference, a type and a path, not a secret.

A *strong* key (password, secret, token…) makes its value a secret unless the value has a shape no
secret has (a boolean, a path, a version…). A *weak* key (auth, key, session…) also names ordinary
settings, so its value must look like a credential too.
"""

from dataclasses import dataclass

STRONG, WEAK = "strong", "weak"

# word -> the placeholder's type. Words are compared lower-case, whole.
STRONG_WORDS = {
    **dict.fromkeys(
        (
            "password passwd passwort passwords pwd pw pass passphrase passcode passkey storepass keypass "
            "srcstorepass deststorepass srckeypass destkeypass requirepass masterauth masterpassword "
            "sshpass pgpass pgpassword dbpass dbpassword mysqlpwd rootpass adminpass userpass psk "
            "wpapsk pwhash passin passout"
        ).split(),
        "password",
    ),
    **dict.fromkeys(
        (
            "secret clientsecret secretkey privatekey signingkey encryptionkey masterkey sharedsecret "
            "hmacsecret jwtsecret appsecret consumersecret webhooksecret secretaccesskey"
        ).split(),
        "secret",
    ),
    **dict.fromkeys(
        (
            "token accesstoken refreshtoken authtoken idtoken apitoken bearertoken sessiontoken "
            "csrftoken xsrftoken oauthtoken privatetoken"
        ).split(),
        "token",
    ),
    **dict.fromkeys("apikey accesskey appkey authkey licensekey subscriptionkey".split(), "api_key"),
    **dict.fromkeys("credential credentials creds".split(), "credentials"),
    **dict.fromkeys("cookie setcookie sessionid jsessionid phpsessid aspsessionid sessionkey".split(), "session"),
}
WEAK_WORDS = {
    "auth": "credentials",
    "authorization": "credentials",
    "key": "api_key",
    "session": "session",
    "sid": "session",
    "community": "password",
    "secrets": "secret",
    "signature": "secret",
    "sig": "secret",
    "pin": "password",
}
# Two words that name a credential only together (``api key``, ``client secret`` is already strong).
PAIRS = {
    ("api", "key"): "api_key",
    ("access", "key"): "api_key",
    ("app", "key"): "api_key",
    ("auth", "key"): "api_key",
    ("secret", "key"): "secret",
    ("private", "key"): "secret",
    ("signing", "key"): "secret",
    ("encryption", "key"): "secret",
    ("master", "key"): "secret",
    ("session", "id"): "session",
    ("session", "key"): "session",
    ("pass", "word"): "password",
    ("pass", "phrase"): "password",
    ("store", "pass"): "password",
    ("key", "pass"): "password",
    ("master", "auth"): "password",
    ("require", "pass"): "password",
    ("private", "token"): "token",
}
# A last word that makes the key name something about a credential, not the credential itself.
NOT_THE_SECRET = frozenset(
    (
        "name names policy policies expiry expires expiration expire expired exp ttl age maxage ref refs "
        "reference file files path paths dir directory folder url uri endpoint host hostname port length "
        "len min max minimum maximum count counts limit limits type types kind mode enabled enable disabled "
        "disable required require reset changed change changes updated update rotation rotated rotate "
        "version versions header headers format prefix suffix hint hints provider providers source sources "
        "store stores manager backend engine field fields env var vars variable variables strength complexity "
        "algorithm algorithms algo cipher scheme issuer audience scope scopes usage used size bits timeout "
        "interval duration lifetime period retries attempts rate label labels annotation annotations "
        "description desc comment comments note notes owner status state valid validity strategy method "
        "methods location class template templates encoding id ids index mount mounts ref_name namespace "
        "server service services sidecar plugin plugins module modules method_name handler handlers helper "
        "command cmd script flag flags option options setting settings config configs configuration "
        "request requests response responses error errors failure failures failed success attempt check "
        "checks rule rules test tests length_min length_max regex pattern patterns login logins user users "
        "username usernames account accounts group groups role roles permission permissions policy_name "
        "bucket buckets limiter refresh refreshed issued created at date time timestamp seconds secs ms "
        "minutes hours days api apis client clients mechanism mechanisms protocol protocols level levels "
        "authentication stdin prompt fd affinity persistence sticky"
    ).split()
)
# Words that contain a vocabulary word but mean something else.
NOT_A_KEY = frozenset(
    (
        "bypass compass overpass underpass surpass trespass encompass passing passed passes passage passive "
        "passenger passport passthrough passthru passable impasse tokenizer tokenize tokenized tokenizers "
        "tokens keys keyboard keyword keywords keyspace keystone keynote keyring keytab keystore monkey "
        "hockey turkey donkey jockey whiskey authority authorities authored author authors authenticate "
        "authenticated authentication authenticator authorize authorized authorizer oauth oauth2 sessions "
        "secretary secreted passwordless tokenless keyless pinned pinning spin spinning pink pine pint "
        "pins pinot pinpoint cookies sigh sign signal signals signature_algorithm sigterm sigkill sigint "
        "sighup siginfo sigma sigs communities askpass"
    ).split()
)


@dataclass(frozen=True)
class KeyReading:
    strength: str  # STRONG or WEAK
    kind: str  # the placeholder's type


def words_of(key: str) -> list[str]:
    """``DB_PASSWORD`` → db, password; ``dbPassword`` → db, password; ``HTTPAuthToken`` → http, auth,
    token; ``password2`` → password2."""
    words: list[str] = []
    current = ""
    for index, char in enumerate(key):
        if not char.isalnum():
            words.append(current)
            current = ""
            continue
        if current and char.isupper():
            previous = current[-1]
            following = key[index + 1] if index + 1 < len(key) else ""
            # A new word at lower-to-upper (dbPassword) and at the last capital of an acronym (HTTPAuth).
            if previous.islower() or previous.isdigit() or (previous.isupper() and following.islower()):
                words.append(current)
                current = ""
        current += char
    words.append(current)
    return [word.lower() for word in words if word]


def read_key(key: str) -> KeyReading | None:
    """What a key names: a strong or weak credential key with its type, or None (not a credential)."""
    words = words_of(key)
    if not words or len(words) > 8:
        return None
    if words[-1] in NOT_THE_SECRET or words[-1] in NOT_A_KEY:
        # ``secretName`` is a reference; but ``session_id`` and ``api_key`` are the credential itself.
        if not (len(words) >= 2 and (words[-2], words[-1]) in PAIRS):
            return None
    found: KeyReading | None = None
    for index, word in enumerate(words):
        if word in NOT_A_KEY:
            continue
        pair = (words[index - 1], word) if index else None
        if pair in PAIRS and (found is None or found.strength != STRONG):
            return KeyReading(STRONG, PAIRS[pair])
        if word in STRONG_WORDS:
            found = KeyReading(STRONG, STRONG_WORDS[word])
        elif found is None and word in WEAK_WORDS:
            found = KeyReading(WEAK, WEAK_WORDS[word])
        elif found is None and (kind := _compound(word)):
            found = KeyReading(STRONG, kind)
    return found


def _compound(word: str) -> str | None:
    """A word that ends in a vocabulary word written together: ``sshpass``, ``dbpassword``, ``apitoken``."""
    if word in NOT_A_KEY or len(word) > 24:
        return None
    for ending, kind in (("password", "password"), ("passwd", "password"), ("secret", "secret"), ("token", "token")):
        if word.endswith(ending) or word.startswith(ending) and word[len(ending) :].isdigit():
            return kind
    if word.endswith("pass") and len(word) <= 10:
        return "password"
    if word.endswith(("apikey", "accesskey", "secretkey", "privatekey")):
        return "api_key" if word.endswith(("apikey", "accesskey")) else "secret"
    return None
