"""A corpus of secrets as incidents really carry them, and of secret-free incident text that must stay.

Every secret is made up here (seeded, so the corpus is the same on every run) in the shape its issuer
gives it, and embedded in the kind of text it turns up in: log lines, shell history, YAML, JSON, .env
files, Kubernetes manifests, Chinese, Japanese and Korean prose. ``SECRETS`` pairs each value with its
kind and its text; ``CLEAN`` holds texts with nothing to redact (hashes, UUIDs, object names,
fingerprints, ports, versions, commands without credentials).
"""

import base64
import random
import string
from dataclasses import dataclass

rng = random.Random(20261201)
ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
B64 = string.ascii_letters + string.digits + "+/"
HASH64 = "./" + string.ascii_letters + string.digits


def _chars(alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def password() -> str:
    """Upper, lower, digits and a symbol, 10 to 16 long: what people and generators choose."""
    core = (
        _chars(string.ascii_letters, 5)
        + _chars(string.digits, 3)
        + _chars("!#%+=_-", 1)
        + _chars(ALNUM, rng.randint(1, 7))
    )
    return "".join(rng.sample(core, len(core)))


def b64(n_bytes: int) -> str:
    return base64.b64encode(rng.randbytes(n_bytes)).decode()


@dataclass(frozen=True)
class Secret:
    kind: str
    value: str
    text: str


def _aws_secret() -> str:
    return _chars(B64, 40)


GENERATORS = {
    "mysql_attached": (
        password,
        "orders 主庫連不上，手動執行 `mysql -h db-primary.prod -u root -p{} orders -e 'show slave status'` 失敗",
    ),
    "mysqldump_attached": (
        password,
        "backup job: mysqldump --single-transaction -u backup -p{} billing > /backups/billing.sql",
    ),
    "redis_cli": (password, "$ redis-cli -h cache-3.prod -a {} INFO replication\nrole:slave master_link_status:down"),
    "password_option_space": (password, "history: ./deploy.sh --env prod --password {} --force"),
    "password_option_equals": (password, "ansible-playbook site.yml --extra-vars db_user=app --password={}"),
    "token_option": (lambda: "t-" + _chars(ALNUM, 30), "ran `argocd login argocd.internal --token {}` before the sync"),
    "api_key_option": (lambda: _chars(ALNUM, 32), "datadog-agent check --api-key {} returned 403"),
    "sshpass": (password, "cron: sshpass -p '{}' ssh ops@10.0.4.17 'systemctl restart nginx'"),
    "curl_user": (password, "curl -s -u admin:{} https://grafana.internal/api/health timed out after 30s"),
    "docker_login": (password, "CI log: docker login -u ci-bot -p {} registry.internal:5000 -> unauthorized"),
    "pgpassword_env": (password, "PGPASSWORD={} psql -h pg-replica-2 -U app -c 'select 1' hangs"),
    "mysql_pwd_env": (password, "export MYSQL_PWD={}\nmysql -h db -e 'flush logs'"),
    "export_token": (
        lambda: "glrt-" + _chars(ALNUM, 20),
        "runner setup: export GITLAB_RUNNER_TOKEN={} && gitlab-runner register",
    ),
    "env_secret": (lambda: _chars(ALNUM, 28), "restarted with `env JWT_SECRET={} node server.js`"),
    "dotenv_key": (
        lambda: _chars(ALNUM, 32),
        ".env on the host:\nAPP_ENV=production\nSTRIPE_WEBHOOK_KEY={}\nPORT=8080",
    ),
    "yaml_password": (password, "config.yaml:\ndatabase:\n  host: pg-primary\n  user: app\n  password: {}\n  pool: 50"),
    "json_password": (password, 'app settings {{"db": {{"user": "app", "password": "{}", "pool": 50}}}} loaded'),
    "ini_password": (password, '[client]\nuser = backup\npassword = "{}"\nhost = db-2'),
    "db_pass_env": (password, "container env: DB_HOST=pg-1 DB_PASS={} DB_NAME=orders"),
    "credentials_field": (
        lambda: "svc-orders/" + password(),
        "vault read returned credentials: {} for the orders service",
    ),
    "k8s_string_data": (
        password,
        "kubectl get secret db -o yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n"
        "  db-pass: {}\n  username: orders\n",
    ),
    "k8s_data_base64": (
        lambda: b64(24),
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: api\ntype: Opaque\ndata:\n  api-token: {}\n",
    ),
    "zh_tw_password": (password, "DBA 回報：資料庫密碼：{}，已寫在工單裡，請盡快更換。"),
    "zh_cn_password": (password, "排查发现配置文件里 数据库密码={} 是明文保存的"),
    "zh_kouling": (password, "跳板機口令: {} 已過期"),
    "zh_jinyao": (lambda: _chars(ALNUM, 24), "第三方金鑰: {} 被寫進了日誌"),
    "zh_lingpai_space": (lambda: _chars(ALNUM, 26), "告警中帶出了存取令牌 {} 需要撤銷"),
    "zh_secret_key": (lambda: _chars(ALNUM, 30), "API密钥是 {} ，请轮换"),
    "ja_password": (password, "障害報告：管理者パスワード: {} がログに出力された"),
    "ko_password": (password, "장애 보고: 관리자 비밀번호: {} 가 로그에 남음"),
    "fullwidth_colon": (password, "客戶貼上的設定 password：{} 已被記錄"),
    "htpasswd": (lambda: "$apr1$" + _chars(HASH64, 8) + "$" + _chars(HASH64, 22), "nginx .htpasswd line: admin:{}"),
    "bcrypt": (lambda: "$2b$12$" + _chars(HASH64, 53), "users table row leaked in the error: hash={} id=42"),
    "sha512crypt": (
        lambda: "$6$" + _chars(HASH64, 16) + "$" + _chars(HASH64, 86),
        "/etc/shadow entry root:{}:19000:0:99999:7:::",
    ),
    "stripe_live": (
        lambda: "sk_live_" + _chars(ALNUM, 24),
        "payments-worker crashed while calling Stripe with {} (rate limited)",
    ),
    "stripe_restricted": (lambda: "rk_live_" + _chars(ALNUM, 24), "reporting job uses {} to read charges"),
    "stripe_test": (lambda: "sk_test_" + _chars(ALNUM, 24), "staging pointed at prod by mistake; key in use {}"),
    "sendgrid": (
        lambda: "SG." + _chars(ALNUM + "_-", 22) + "." + _chars(ALNUM + "_-", 43),
        "mailer: sendgrid rejected {} (401)",
    ),
    "twilio": (lambda: "SK" + _chars("0123456789abcdef", 32), "sms-gateway auth with api key {} failed"),
    "google_api": (lambda: "AIza" + _chars(ALNUM + "_-", 35), "maps quota exceeded for key {}"),
    "azure_storage": (
        lambda: b64(66),
        "connection string DefaultEndpointsProtocol=https;AccountName=logsprod;AccountKey={};"
        "EndpointSuffix=core.windows.net",
    ),
    "azure_sas": (
        lambda: b64(32).replace("+", "%2B").replace("/", "%2F"),
        "blob url https://logs.blob.core.windows.net/c/app.log?sv=2022-11-02&sr=b&sig={} expired",
    ),
    "npm": (lambda: "npm_" + _chars(ALNUM, 36), "build failed: npm publish with token {} got E403"),
    "pypi": (lambda: "pypi-AgEIcHlwaS5vcmc" + _chars(ALNUM + "_-", 80), "twine upload -u __token__ -p {} dist/*"),
    "vault": (
        lambda: "hvs." + _chars(ALNUM, 90),
        "VAULT_TOKEN leaked in shell history: vault kv get -address=https://vault.internal {}",
    ),
    "huggingface": (lambda: "hf_" + _chars(string.ascii_letters, 34), "model download used {} from the notebook"),
    "anthropic": (lambda: "sk-ant-api03-" + _chars(ALNUM + "_-", 93), "summarizer configured with {}"),
    "openai": (lambda: "sk-proj-" + _chars(ALNUM + "_-", 48), "embedding job: OpenAI key {} hit the rate limit"),
    "github": (lambda: "ghp_" + _chars(ALNUM, 36), "git clone https://github.com/acme/infra failed; retried with {}"),
    "gitlab": (lambda: "glpat-" + _chars(ALNUM + "_-", 20), "pipeline trigger used {} from the wiki page"),
    "slack": (
        lambda: "xoxb-" + _chars(string.digits, 12) + "-" + _chars(string.digits, 13) + "-" + _chars(LOWER_ALNUM, 24),
        "alert bot posting with {} got not_in_channel",
    ),
    "aws_access_key_id": (
        lambda: "AKIA" + _chars(string.ascii_uppercase + string.digits, 16),
        "boto3 NoCredentials fallback picked up {} from the instance",
    ),
    "aws_secret_keyed": (_aws_secret, "~/.aws/credentials\n[default]\naws_secret_access_key = {}"),
    "aws_secret_bare": (_aws_secret, "someone pasted {} into the incident channel, 請立即輪換"),
    "jwt": (
        lambda: "eyJ" + _chars(ALNUM, 30) + ".eyJ" + _chars(ALNUM, 40) + "." + _chars(ALNUM + "_-", 43),
        "401 from auth-service, request had cookie session={}",
    ),
    "private_key": (
        lambda: (
            "-----BEGIN RSA PRIVATE KEY-----\n"
            + "\n".join(b64(48) for _ in range(4))
            + "\n-----END RSA PRIVATE KEY-----"
        ),
        "deploy key mounted into the pod:\n{}\nthen the pod crashed",
    ),
    "url_credentials": (password, "DSN postgresql://orders:{}@pg-primary.prod:5432/orders refused connection"),
    "bearer": (lambda: _chars(ALNUM, 40), "webhook sent Authorization: Bearer {} and got 403"),
    "discord": (
        lambda: "M" + _chars(ALNUM, 23) + "." + _chars(ALNUM, 6) + "." + _chars(ALNUM + "_-", 27),
        "chatops bot token {} revoked by Discord",
    ),
    "telegram": (
        lambda: _chars(string.digits, 10) + ":" + _chars(ALNUM + "_-", 35),
        "oncall telegram bot {} sent 0 messages",
    ),
}
PER_KIND = 3


def _secrets() -> list[Secret]:
    made, seen = [], set()
    for kind, (generate, template) in GENERATORS.items():
        for _ in range(PER_KIND):
            value = generate()
            while value in seen:
                value = generate()
            seen.add(value)
            made.append(Secret(kind, value, template.format(value)))
    return made


SECRETS = _secrets()


def _clean() -> list[str]:
    texts = []
    for n in range(20):
        commit, short = _chars("0123456789abcdef", 40), _chars("0123456789abcdef", 7)
        uuid = "-".join(_chars("0123456789abcdef", k) for k in (8, 4, 4, 4, 12))
        pod = f"payments-api-{_chars('0123456789abcdef', 9)}-{_chars(LOWER_ALNUM, 5)}"
        fingerprint = base64.b64encode(rng.randbytes(32)).decode().rstrip("=")
        port, version = rng.randint(1024, 65535), f"v{rng.randint(1, 3)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
        texts += [
            f"rollback to commit {commit} ({short}) after deploy {version} broke checkout",
            f"incident {uuid}: pod {pod} OOMKilled 14 times, memory limit 512Mi",
            f"TLS cert for api.example.internal renewed, SHA256 fingerprint {fingerprint} in the log",
            f"nginx upstream 10.0.{n}.{port % 250}:{port} timed out; retries 3, keepalive 60s",
            f"kubectl -n prod rollout restart deploy/{pod.rsplit('-', 2)[0]} && kubectl -n prod get pods -o wide",
            f"節點 worker-{n} 磁碟使用率 93%，/var/log 佔 41 GB，logrotate 未執行，已清理 {version} 之前的日誌",
            f"password reset link sent to the user; passwordless login enabled for {pod}",
            f"LLM call used tokens: {rng.randint(100, 9000)}, max_tokens 4096, temperature 0.2",
            f"helm values for {pod.rsplit('-', 2)[0]}:\nsecurity:\n  auth:\n    enabled: true\n    type: oidc\n"
            f"  tls:\n    secretName: tls-cert-{n}\nimage: registry.internal/app:{version}",
            f"auth: oauth2-proxy/{version}; tokenizer=bert-base-uncased; AUTH_TYPE=ldap-v3; session_timeout={n}m",
            f"pwd=/var/lib/app-{n}; token_expiry=2026-11-{n % 28 + 1:02d}T09:00:00Z; passwordPolicy: min12chars",
            f"Passing: https://ci.internal/job/{rng.randint(1000, 9999)} took {n}m; "
            f"sha256:{_chars('0123456789abcdef', 64)}",
            f"db:\n  host: pg-{n}.prod\n  port: {port}\n  password_file: /run/secrets/db-{n}\n  pool_size: 20",
            f"export DB_PASSWORD=${{DB_PASSWORD}}; export API_KEY_FILE=/etc/app/key-{n}.pem; ulimit -n 65535",
            f"[auth]\nenabled = true\nprovider = ldap\nsecret_ref = vault:kv/app-{n}\nmax_tokens = 4096",
            f"redis-cli -h cache-{n} --latency; ssh -p 2222 ops@bastion-{n}; docker run -p {port}:80 nginx:{version}",
        ]
    texts += [
        "mysql -u root -p orders   (asked for the password at the prompt, nothing typed into history)",
        "redis-cli -h cache-3 ping -> PONG; redis-cli --latency shows 2ms",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  LOG_LEVEL: debug\n  POOL_SIZE: '50'\n",
        "docker login registry.internal --password-stdin < /run/secrets/registry (no value on the command line)",
        "the secret-manager sidecar restarted; secrets are mounted read-only under /var/run/secrets",
        "token bucket rate limiter dropped 3% of requests; token refresh interval 300s",
        "Grafana dashboard https://grafana.internal/d/abc123/checkout?orgId=1&from=now-6h shows p99 2.3s",
        "GC pause 2.1s on order-service JVM (-Xmx4g -XX:+UseG1GC), heap 92% before the restart",
        "Kafka consumer group billing-events lag 1.2M, partition 7 rebalancing loop since 02:14 UTC",
        "certificate CN=api.example.internal O=Example Ltd serial 4F:1A:09:77:3C expires 2026-12-03",
    ]
    return texts


CLEAN = _clean()
