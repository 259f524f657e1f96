"""Keys are read a word at a time: the vocabulary in any spelling, and the words that turn a key into
something about a credential."""

import pytest

from finetune_assets.core.credentials.keys import STRONG, WEAK, read_key, words_of


@pytest.mark.parametrize(
    "key, words",
    [
        ("DB_PASSWORD", ["db", "password"]),
        ("dbPassword", ["db", "password"]),
        ("X-Auth-Token", ["x", "auth", "token"]),
        ("spring.datasource.password", ["spring", "datasource", "password"]),
        ("HTTPServerKey", ["http", "server", "key"]),
    ],
)
def test_a_key_splits_into_words(key, words):
    assert words_of(key) == words


@pytest.mark.parametrize(
    "key, strength, kind",
    [
        ("password", STRONG, "password"),
        ("db_admin_pw", STRONG, "password"),
        ("requirepass", STRONG, "password"),
        ("masterauth", STRONG, "password"),
        ("storepass", STRONG, "password"),
        ("client_secret", STRONG, "secret"),
        ("refresh-token", STRONG, "token"),
        ("api key", STRONG, "api_key"),
        ("JSESSIONID", STRONG, "session"),
        ("auth", WEAK, "credentials"),
        ("community", WEAK, "password"),
        ("X-Api-Key", STRONG, "api_key"),
    ],
)
def test_the_vocabulary_names_credentials(key, strength, kind):
    reading = read_key(key)
    assert reading is not None and (reading.strength, reading.kind) == (strength, kind)


@pytest.mark.parametrize(
    "key",
    [
        "passwordPolicy",
        "token_expiry",
        "secretName",
        "AUTH_TYPE",
        "password_file",
        "tokenizer",
        "bypass",
        "sessionAffinity",
        "max_tokens",
        "keystore",
        "hostname",
        "passwordless",
    ],
)
def test_keys_about_a_credential_or_only_containing_a_word_are_not_keys(key):
    assert read_key(key) is None
