"""Values in a credential position, in every syntax text carries: the whole value goes, whatever it
holds, and a key whose value is not a secret (a flag, a version, a reference) stays."""

import pytest

from .forms import SECRET, Form, check, kept

S = SECRET
FORMS = [
    Form("yaml block scalar", f"config:\n  password: |\n    {S}\n  user: app"),
    Form("yaml folded scalar", f"db:\n  secret: >-\n    {S}\n  pool: 5"),
    Form("yaml value on the next line", f"db:\n  password:\n    {S}\n  user: app"),
    Form("xml element", f"<password>{S}</password>"),
    Form("xml element with a dotted name and CDATA", f"<config><db.password><![CDATA[{S}]]></db.password></config>"),
    Form("xml attribute", f'<datasource user="app" password="{S}" url="jdbc:x"/>'),
    Form("xml key/value pair", f'<add key="DbPassword" value="{S}"/>'),
    Form("ruby hash", f'{{:password => "{S}"}}'),
    Form("php array", f"$config = array('password' => '{S}');"),
    Form("walrus", f"password := {S}"),
    Form("square brackets", f"password=[{S}]"),
    Form("braces", f"password={{{S}}}"),
    Form("angle brackets", f"password=<{S}>"),
    Form("delimiters inside", "password=ab,cd;ef&gh/ij#kl?mn", "ab,cd;ef&gh/ij#kl?mn"),
    Form("escaped quotes", '{"password": "ab\\"cd\\"ef12"}', 'ab\\"cd\\"ef12'),
    Form("single-quoted with escape", "pw='it\\'s-Xk9mQ2vL7'", "it's-Xk9mQ2vL7"),
    Form("nested json", f'{{"db": {{"auth": {{"password": "{S}"}}}}}}'),
    Form("container env list, yaml", f"env:\n  - name: DB_PASSWORD\n    value: {S}\n  - name: DB_HOST\n    value: db"),
    Form("container env list, json", f'[{{"name": "DB_PASSWORD", "value": "{S}"}}]'),
    Form("terraform variable", f'db_admin_pw = "{S}"'),
    Form("hcl block", f'resource "x" "y" {{\n  master_password = "{S}"\n}}'),
    Form("ini", f"[client]\npassword = {S}\nhost = db"),
    Form("toml", f'[db]\npassphrase = "{S}"'),
    Form("dotenv export", f"export APP_SECRET={S}"),
    Form("redis requirepass", f"requirepass {S}"),
    Form("redis masterauth", f"masterauth {S}"),
    Form("cookie header", "Cookie: sessionid=abc123def456; csrftoken=zzz999yyy", "abc123def456"),
    Form("session id", "JSESSIONID=A1B2C3D4E5F6G7", "A1B2C3D4E5F6G7"),
    Form("set-cookie", "Set-Cookie: session=Qw8Er7Ty6Ui5; Path=/; HttpOnly", "Qw8Er7Ty6Ui5"),
    Form("snmp community", f"community: {S}"),
    Form("private key passphrase", f"private_key_passphrase: {S}"),
    Form("full-width key and sign", f"ｐａｓｓｗｏｒｄ＝{S}"),
    Form("zero-width space inside the key", f"pass\u200bword={S}"),
    Form("soft hyphen inside the key", f"pass\u00adword: {S}"),
    Form("prose is", f"the password is {S}"),
    Form("prose was, capitalised", f"DB Password was {S} before the rotation"),
    Form("chinese colon", f"資料庫密碼：{S}，請更換"),
    Form("chinese is", f"密码是 {S}"),
    Form("chinese wei", f"口令為{S}"),
    Form("ado.net connection string", f"Server=db;Database=x;User Id=sa;Password={S};"),
    Form("odbc braces", f"DRIVER={{ODBC}};PWD={{{S}}};UID=sa"),
    Form("libpq conninfo", f"host=db port=5432 dbname=x user=app password={S} sslmode=require"),
    Form("jdbc parameters", "jdbc:mysql://db:3306/x?user=app&password=Xk9mQ2vL7pZ&ssl=true", "Xk9mQ2vL7pZ"),
    Form("mount options", f"mount -t cifs -o username=svc,password={S},uid=0 //srv/share /mnt"),
    Form("sql alter user", f"ALTER USER app WITH PASSWORD '{S}';"),
    Form("sql identified by", f"CREATE USER 'a'@'%' IDENTIFIED BY '{S}';"),
    Form("api key header", "X-Api-Key: 7f3a9c2e4b1d8f6a0c5e", "7f3a9c2e4b1d8f6a0c5e"),
    Form("camel case key", f"dbPassword: {S}"),
    Form("upper snake key", f"REDIS_AUTH_PASS={S}"),
    Form("keystore", f"keystorePassword={S}"),
    Form("in a label", f"alertname: password={S}"),
]


@pytest.mark.parametrize("form", FORMS, ids=[form.name for form in FORMS])
def test_a_keyed_value_goes_whole_and_the_scanner_sees_it_alone(form):
    check(form)


@pytest.mark.parametrize(
    "text",
    [
        "helm values: security: auth: enabled: true",
        "security:\n  auth:\n    enabled: true\n    type: oidc",
        "auth: oauth2-proxy/v7.5.1",
        "tokenizer=bert-base-uncased",
        "AUTH_TYPE=ldap-v3",
        "Passing: https://ci/job/123",
        "pwd=/var/lib/app",
        "token_expiry=2026-11-10T09:00:00Z",
        "passwordPolicy: min12chars",
        "secretName: tls-cert-2026",
        "password_file: /run/secrets/db",
        "password: ${DB_PASSWORD}",
        "password: '********'",
        "password: null",
        "token_ttl: 3600",
        "secret: false",
        "passwordless: true",
        "the password was reset by the operator",
        "密碼 已重設，請用者自行登入",
        "max_tokens: 4096",
        "auth: enabled",
        "key insight: the cache was cold",
        '<password-policy min-length="12"/>',
        "sessionAffinity: ClientIP",
    ],
)
def test_a_key_with_a_value_that_is_not_a_secret_stays(text):
    kept(text)


def test_only_the_value_is_replaced_and_the_syntax_around_it_stays():
    from finetune_assets.core.redaction import Redactor

    redactor = Redactor()
    assert redactor.redact(f"password: |\n    {S}\n  user: app") == "password: |\n    [REDACTED:password]\n  user: app"
    assert redactor.redact(f"<password>{S}</password>") == "<password>[REDACTED:password]</password>"
    assert redactor.redact(f"password={{{S}}};x=1") == "password={[REDACTED:password]};x=1"
    assert redactor.redact(f"ｐａｓｓｗｏｒｄ＝{S} ok") == "ｐａｓｓｗｏｒｄ＝[REDACTED:password] ok"
