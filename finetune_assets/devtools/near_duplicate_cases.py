"""Texts that make near-duplicate detection earn its name: alert templates with 1 to 8 variable parts
(hosts, pods, counts, addresses, times, ids), Chinese templates written without spaces, short one-line
alerts, topically similar texts, chains of texts edited a few words at a time (borderline and chained
similarities), and word-for-word repeats. Deterministic for a seed."""

import numpy as np

VOCABULARY = (
    "disk node pod kubelet eviction image garbage collection threshold container log rotation namespace "
    "payments orders cart search gateway ingress certificate renewal replica lag consumer group topic "
    "rebalance probe liveness readiness timeout memory leak heap release rollback deploy canary traffic "
    "latency error rate upstream database connection pool query index vacuum autovacuum checkpoint wal "
    "archive backup snapshot volume mount inode quota cpu throttling limit request scheduler affinity "
    "taint toleration drain cordon upgrade kernel driver network packet drop retransmit dns resolver cache "
    "expired stale warm cold shard partition leader election quorum raft etcd compaction defrag alarm"
).split()
ENGLISH = [
    "[DiskPressure] node {host} reports disk usage of {n} percent on the docker volume; the kubelet began "
    "evicting pods in the payments namespace because image garbage collection could not free enough space",
    "[KubePodCrashLooping] pod {pod} in namespace {word} restarted {n} times since {time}; the last exit code "
    "was {n} and the container log shows a failed connection to {ip} before the probe gave up",
    "[PostgresReplicationLag] replica {host} is {n} seconds behind primary {host} at {time}; wal receiver "
    "reconnected {n} times and the archive command failed for segment {hex} with status {n}",
    "[HTTP5xxSpike] ingress {host} served {n} errors per minute from {time} to {time}; upstream {ip} timed out "
    "for request {uuid} and the retry budget of {n} was exhausted on route {word}",
    "[CertificateExpiring] certificate for {host} expires in {n} days; renewal job {pod} failed at {time} "
    "because the acme challenge to {ip} returned {n}",
    "[KafkaConsumerLag] consumer group {word} is {n} messages behind on topic {word} partition {n} after a "
    "rebalance at {time}; member {pod} left the group {n} times",
]
CHINESE = [
    "節點{host}發生磁碟告警使用率達到{n}百分比請檢查容器日誌並清理未使用的映像檔以釋放空間",
    "服務{pod}在{time}重啟了{n}次記憶體使用率持續升高懷疑存在記憶體洩漏需要回滾到上一個版本",
    "資料庫{host}複製延遲{n}秒主節點{ip}的連線數已達上限請調整連線池大小並檢查慢查詢",
]
SHORT = [
    "disk full on {host}",
    "{pod} oomkilled {n} times",
    "high cpu on {host} at {time}",
    "certificate expired for {host}",
    "replica {host} lagging {n} seconds",
]


def _slot(kind: str, rng: np.random.Generator) -> str:
    draw = rng.integers
    values = {
        "host": lambda: f"{rng.choice(['worker', 'web', 'db', 'cache', 'api'])}-{draw(1, 300)}",
        "pod": lambda: f"{rng.choice(['payments-api', 'cart', 'search'])}-{draw(0, 16**6):06x}-{draw(0, 10**5)}",
        "n": lambda: str(draw(0, 10_000)),
        "ip": lambda: ".".join(str(part) for part in draw(0, 256, 4)),
        "time": lambda: f"2026-{draw(1, 13):02d}-{draw(1, 29):02d}T{draw(0, 24):02d}:{draw(0, 60):02d}:00Z",
        "hex": lambda: f"{draw(0, 2**40):010x}",
        "uuid": lambda: "-".join(f"{draw(0, 16**w):0{w}x}" for w in (8, 4, 4, 4, 12)),
        "word": lambda: str(rng.choice(VOCABULARY)),
    }
    return values[kind]()


def _filled(template: str, rng: np.random.Generator) -> str:
    text, out = template, []
    while "{" in text:
        before, rest = text.split("{", 1)
        kind, text = rest.split("}", 1)
        out += [before, _slot(kind, rng)]
    return "".join(out) + text


def _words(rng: np.random.Generator, count: int) -> list[str]:
    return [str(word) for word in rng.choice(VOCABULARY, count)]


def cases(count: int, seed: int = 0) -> list[str]:
    """``count`` texts in an order a corpus would see them (kinds interleaved)."""
    rng = np.random.default_rng(seed)
    sentences = [" ".join(_words(rng, 12)) for _ in range(40)]
    texts: list[str] = []
    while len(texts) < count:
        kind = rng.random()
        if kind < 0.35:
            texts.append(_filled(str(rng.choice(ENGLISH)), rng))
        elif kind < 0.5:
            texts.append(_filled(str(rng.choice(CHINESE)), rng))
        elif kind < 0.6:
            texts.append(_filled(str(rng.choice(SHORT)), rng))
        elif kind < 0.7:  # topically similar: four of a few dozen shared sentences
            texts.append(". ".join(sentences[i] for i in rng.choice(len(sentences), 4, replace=False)))
        elif kind < 0.95:  # an edit chain: each text 1 to 3 words away from the one before
            words = _words(rng, int(rng.integers(30, 90)))
            for _ in range(int(rng.integers(3, 15))):
                for position in rng.integers(0, len(words), int(rng.integers(1, 4))):
                    words[position] = str(rng.choice(VOCABULARY))
                texts.append(" ".join(words))
        elif texts:  # word for word
            texts.append(texts[int(rng.integers(0, len(texts)))])
    return texts[:count]
