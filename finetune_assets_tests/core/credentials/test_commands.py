"""Command lines: the options and positional arguments of the tools an SRE team uses, any tool's
option named for a credential, and secrets handed to a tool on standard input."""

import pytest

from finetune_assets.core.credentials.command_table import TOOLS
from finetune_assets.core.redaction import Redactor

from .forms import SECRET, Form, check, kept

S = SECRET
FORMS = [
    Form("htpasswd -b", f"htpasswd -b /etc/nginx/.htpasswd admin {S}"),
    Form("htpasswd -bc", f"htpasswd -bc .htpasswd ops '{S}'"),
    Form("ldapsearch -w", f"ldapsearch -x -D cn=admin -w {S} -b dc=x"),
    Form("sqlcmd -P", f"sqlcmd -S db -U sa -P {S}"),
    Form("ipmitool -P", f"ipmitool -I lanplus -H 10.0.0.5 -U root -P {S} power status"),
    Form("keytool -storepass", f"keytool -importkeystore -storepass {S} -keystore x.jks"),
    Form("gpg --passphrase", f"gpg --batch --passphrase {S} -d file.gpg"),
    Form("unzip -P", f"unzip -P {S} backup.zip"),
    Form("az login -p", f"az login -u bot@x.com -p {S}"),
    Form("twine upload -p", f"twine upload -u __token__ -p {S} dist/*"),
    Form("snmpwalk -c", "snmpwalk -v2c -c Cm7unity-Str1ng 10.0.0.1", "Cm7unity-Str1ng"),
    Form("rabbitmqctl add_user", f"rabbitmqctl add_user deploy {S}"),
    Form("SSHPASS variable", f"SSHPASS={S} sshpass -e ssh host"),
    Form("chpasswd from echo", f"echo 'deploy:{S}' | chpasswd"),
    Form("mysql -p VALUE", "mysql -h db -u root -p Summer2026x orders", "Summer2026x"),
    Form("mysql -pVALUE", f"mysql -u root -p{S} -h db"),
    Form("redis-cli -a", f"redis-cli -h cache -a {S} ping"),
    Form("curl -u", f"curl -s -u admin:{S} https://grafana.internal/api/health"),
    Form("docker login -p", f"docker login -u ci -p {S} registry.internal"),
    Form("sshpass -p", f"sshpass -p '{S}' ssh ops@h"),
    Form("smbclient -U user%pass", f"smbclient //srv/share -U svc%{S}"),
    Form("generic --db-password", f"./migrate.sh --db-password={S} --yes"),
    Form("generic --api-token next", f"deployctl push --api-token {S} --env prod"),
    Form("java -storepass style", f"jarsigner -keystore k.jks -storepass {S} app.jar"),
    Form("windows /pass:", f"net use \\\\srv\\share /user:ops /pass:{S}"),
    Form("openssl pass:", f"openssl pkcs12 -export -passout pass:{S} -out x.p12"),
    Form("here-string", f"kinit ops@REALM <<< '{S}'"),
    Form("continued line", f"mysql -h db \\\n  -u root \\\n  --password={S} orders"),
    Form("inside a quoted remote command", f"ssh bastion \"mysql -uroot -p'{S}' -e 'select 1'\""),
]


@pytest.mark.parametrize("form", FORMS, ids=[form.name for form in FORMS])
def test_a_command_line_secret_goes_whole_and_the_scanner_sees_it_alone(form):
    check(form)


@pytest.mark.parametrize(
    "text",
    [
        "mysql -u root -p orders   (asked for the password at the prompt)",
        "docker login registry.internal --password-stdin < /run/secrets/registry",
        "docker run -p 8080:80 nginx",
        "ssh -p 2222 ops@bastion",
        "unzip -o backup.zip -d /tmp/restore",
        "gpg --passphrase-file /run/secrets/gpg -d file.gpg",
        "kubectl -n prod get secret db -o jsonpath='{.data.password}'",
        "htpasswd -c /etc/nginx/.htpasswd admin",
        "snmpwalk -v3 -l authPriv -u monitor 10.0.0.1",
        "redis-cli -h cache-3 ping -> PONG",
        "az login --identity",
        "curl -u admin https://h/api (prompted)",
    ],
)
def test_commands_without_a_secret_stay(text):
    kept(text)


def test_only_the_secret_argument_is_replaced():
    redactor = Redactor()
    assert redactor.redact(f"htpasswd -b /etc/.htpasswd admin {S}") == (
        "htpasswd -b /etc/.htpasswd admin [REDACTED:password]"
    )
    assert redactor.redact(f"echo 'deploy:{S}' | chpasswd") == "echo 'deploy:[REDACTED:password]' | chpasswd"


def test_the_table_covers_the_clients_an_sre_team_uses():
    expected = "mysql redis-cli sqlcmd ldapsearch ipmitool unzip az twine snmpwalk rabbitmqctl htpasswd sshpass docker"
    assert set(expected.split()) <= set(TOOLS)
    assert len(TOOLS) >= 40
