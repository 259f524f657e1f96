"""Values that have a shape no secret has stay; after a weak key the value must look like one."""

import pytest

from finetune_assets.core.credentials.shapes import is_mask, looks_like_credential, never_a_secret


@pytest.mark.parametrize(
    "value",
    ["true", "enabled", "/var/lib/app", "v7.5.1", "2026-11-10T09:00:00Z", "${DB_PASSWORD}", "null", "****"],
)
def test_shapes_no_secret_has(value):
    assert never_a_secret(value)


@pytest.mark.parametrize("value", ["hunter2", "Xk9#mQ2&vL7;pZ", "correct horse battery staple", "s3cr3t", "4096"])
def test_a_strong_key_keeps_anything_else_a_secret(value):
    assert not never_a_secret(value)


@pytest.mark.parametrize(
    "value, looks",
    [
        ("oauth2-proxy/v7.5.1", False),
        ("ldap-v3", False),
        ("bert-base-uncased", False),
        ("Kubernetes", False),
        ("worker-3.prod.example.com", False),
        ("ClientIP", True),  # capitals inside: only the key can tell (sessionAffinity is not one)
        ("A1B2C3D4E5F6G7", True),
        ("hunter2!", True),
    ],
)
def test_after_a_weak_key_the_value_must_look_like_a_credential(value, looks):
    assert looks_like_credential(value) is looks


@pytest.mark.parametrize("value", ["<password>", "your-password", "(hidden)", "xxxx", "[REDACTED:password]"])
def test_masks_and_placeholders_are_not_secrets(value):
    assert is_mask(value) or never_a_secret(value)
