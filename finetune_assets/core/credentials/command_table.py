"""Credentials on command lines, as data: which option of which tool takes a secret, which argument
is one, and which tools read one from standard input.

Any tool's long option whose name reads as a credential key (``--password``, ``--db-pass``,
``-storepass``, ``--api-key``, ``/pass:``) is covered by ``credential_keys``; this table adds the
short options and positional arguments that only the tool's manual says are secrets.
"""

from dataclasses import dataclass, field

NEXT = "next"  # the next argument: ``ldapsearch -w VALUE``
ATTACHED = "attached"  # glued to the option: ``mysql -pVALUE``
EITHER = "either"  # either, the next one only if it looks like a credential: ``mysql -p VALUE``


@dataclass(frozen=True)
class Tool:
    options: dict[str, str] = field(default_factory=dict)  # option -> NEXT, ATTACHED or EITHER
    # subcommand words -> positions (0-based, options skipped) of the secret arguments after them
    positional: dict[tuple[str, ...], tuple[int, ...]] = field(default_factory=dict)
    # a value of the form user<sep>secret: the secret is what follows the first separator
    user_separator: dict[str, str] = field(default_factory=dict)  # option -> separator
    kind: str = "password"
    # the options hold a secret only after one of these subcommands (``docker login -p``, not ``docker run -p``)
    after: frozenset[str] = frozenset()


def _family(names: str, tool: Tool) -> dict[str, Tool]:
    return dict.fromkeys(names.split(), tool)


_LOGIN = frozenset({"login"})
_REGISTRY_LOGIN = Tool(options={"-p": NEXT}, after=_LOGIN)
TOOLS: dict[str, Tool] = {
    **_family(
        "mysql mysqldump mysqladmin mysqlimport mysqlshow mysqlcheck mysqlpump mysqlbinlog mysqlsh mysqlslap "
        "mariadb mariadb-dump mariadb-admin mariadb-import mariadb-check",
        Tool(options={"-p": EITHER}),
    ),
    **_family(
        "mongo mongosh mongodump mongorestore mongoexport mongoimport mongostat mongotop mongofiles",
        Tool(options={"-p": EITHER}),
    ),
    "redis-cli": Tool(options={"-a": NEXT}, positional={("config", "set", "requirepass"): (0,)}),
    "sshpass": Tool(options={"-p": EITHER}),
    **_family("docker podman buildah skopeo nerdctl oras crane regctl", _REGISTRY_LOGIN),
    "helm": Tool(options={"-p": NEXT}, after=_LOGIN),
    "oc": Tool(options={"-p": NEXT}, after=_LOGIN),
    "az": Tool(options={"-p": NEXT}, after=_LOGIN),
    "twine": Tool(options={"-p": NEXT}, after=frozenset({"upload", "register"})),
    "psexec": Tool(options={"-p": NEXT}),
    **_family(
        "ldapsearch ldapmodify ldapadd ldapdelete ldapwhoami ldapcompare ldapmodrdn ldapexop ldapurl",
        Tool(options={"-w": NEXT}),
    ),
    "ldappasswd": Tool(options={"-w": NEXT, "-s": NEXT, "-a": NEXT}),
    **_family("sqlcmd bcp osql isql", Tool(options={"-P": EITHER})),
    "ipmitool": Tool(options={"-P": NEXT, "-k": NEXT, "-y": NEXT}),
    **_family("zip unzip zipcloak", Tool(options={"-P": NEXT})),
    **_family("7z 7za 7zr rar unrar", Tool(options={"-p": ATTACHED})),
    **_family(
        "snmpwalk snmpget snmpset snmpbulkwalk snmpbulkget snmpgetnext snmptrap snmpinform snmptable snmpdf "
        "snmpstatus snmpnetstat snmptest snmpdelta",
        Tool(options={"-c": NEXT, "-A": NEXT, "-X": NEXT}),
    ),
    "openssl": Tool(options={"-k": NEXT}, after=frozenset({"enc"})),
    "curl": Tool(
        options={"-u": NEXT, "--user": NEXT, "-U": NEXT, "--proxy-user": NEXT},
        user_separator={"-u": ":", "--user": ":", "-U": ":", "--proxy-user": ":"},
    ),
    **_family("smbclient rpcclient smbmap", Tool(options={"-U": NEXT}, user_separator={"-U": "%"})),
    "lftp": Tool(options={"-u": NEXT}, user_separator={"-u": ","}),
    **_family("useradd usermod", Tool(options={"-p": NEXT}, kind="password_hash")),
    "ssh-keygen": Tool(options={"-N": NEXT, "-P": NEXT}),
    **_family("mosquitto_pub mosquitto_sub mosquitto_rr", Tool(options={"-P": NEXT})),
    "influx": Tool(options={"-t": NEXT}, kind="token"),
    "rabbitmqctl": Tool(positional={("add_user",): (1,), ("change_password",): (1,), ("authenticate_user",): (1,)}),
    "htpasswd": Tool(),  # positional by its flags: see ``htpasswd_secret``
    "wpa_passphrase": Tool(positional={(): (1,)}),
    "mc": Tool(positional={("alias", "set"): (2, 3), ("config", "host", "add"): (2, 3)}, kind="api_key"),
    "vault": Tool(positional={("login",): (0,)}, kind="token"),
    "net": Tool(positional={("user",): (1,)}),
    "schtasks": Tool(options={"/rp": NEXT, "/p": NEXT}),
    "sqlplus": Tool(),  # user/password@database: see ``sqlplus_secret``
    "kubectl": Tool(options={"--from-literal": NEXT}, user_separator={"--from-literal": "="}, kind="secret"),
    # ``set KEY VALUE`` with a credential KEY (see ``commands``)
    "aws": Tool(),
    "git": Tool(),
}
# Tools that read a secret from standard input (``echo 'pw' | …``, ``… <<< 'pw'``); chpasswd reads
# user:password lines.
STDIN_TOOLS = (
    "chpasswd passwd smbpasswd kinit cryptsetup sudo docker podman nerdctl helm oras skopeo buildah vault htpasswd gh"
).split()
USER_COLON_SECRET_STDIN = frozenset({"chpasswd"})


def htpasswd_secret(arguments: list[str]) -> int | None:
    """``htpasswd -b[c…] FILE USER PASSWORD`` and ``htpasswd -nb USER PASSWORD``: the index of the
    password among the arguments, or None when it is typed at a prompt."""
    flags = "".join(argument[1:] for argument in arguments if argument.startswith("-") and len(argument) > 1)
    if "b" not in flags:
        return None
    positional = [index for index, argument in enumerate(arguments) if not argument.startswith("-")]
    wanted = 1 if "n" in flags else 2
    return positional[wanted] if len(positional) > wanted else None


def sqlplus_secret(argument: str) -> tuple[int, int] | None:
    """``user/password@database``: where the password is in the argument."""
    slash = argument.find("/")
    if slash <= 0 or argument.startswith(("/", "@")):
        return None
    at = argument.rfind("@")
    end = at if at > slash else len(argument)
    return (slash + 1, end) if end > slash + 1 else None
