"""The latency of single POST /v1/score calls at a fixed rate (an open loop: a call starts on
its schedule whether or not the earlier ones have answered), against a running Seula on
loopback. Standard library only; bounded in count and time.

    python3 training/transformer/latency.py --rate 70 --seconds 20 [--url http://127.0.0.1:8080]

Every call sends one comment (JSON Lines --texts, cycled; default a few English comments the
default cascade sends to the model) and prints the answered count, the statuses, how many the
model scored, and p50/p90/p99/max of the time to answer.
"""

import argparse
import collections
import http.client
import json
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

TEXTS = [
    "this is so stupid, who even thought this was a good idea",
    "you guys are clowns lol",
    "not sure if this is a joke or you really mean it",
    "what a load of rubbish from the people in charge",
    "i hate mondays and i hate this app",
    "shut up already, nobody asked",
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--rate", type=float, required=True, help="calls started per second")
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--texts", help="a JSON Lines file with a text field per line")
    ap.add_argument("--channel", help="the comments' channel (to pick a channel's policy)")
    args = ap.parse_args()
    texts = TEXTS
    if args.texts:
        texts = [json.loads(line)["text"] for line in open(args.texts, encoding="utf-8") if line.strip()]
    url = urllib.parse.urlsplit(args.url)
    total = int(args.rate * args.seconds)
    local = threading.local()
    lock = threading.Lock()
    times, statuses, models = [], collections.Counter(), collections.Counter()

    def call(n):
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
        comment = {"id": f"latency-{n}", "text": texts[n % len(texts)]}
        if args.channel:
            comment["channel"] = args.channel
        body = json.dumps(comment)
        started = time.perf_counter()
        try:
            local.conn.request("POST", "/v1/score", body, {"content-type": "application/json"})
            response = local.conn.getresponse()
            answer = response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            local.conn.close()
            del local.conn
            status, answer = "error", b"{}"
        took = time.perf_counter() - started
        model = json.loads(answer or b"{}").get("transformer", {}).get("status", "none") if status == 200 else "-"
        with lock:
            times.append(took)
            statuses[status] += 1
            models[model] += 1

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=64) as pool:
        for n in range(total):
            delay = start + n / args.rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(call, n)
    times.sort()
    q = lambda p: times[min(len(times) - 1, int(p * len(times)))] * 1000
    print(
        f"{len(times)} calls at {args.rate:g}/s over {time.perf_counter() - start:.1f} s; "
        f"statuses {dict(statuses)}; transformer {dict(models)}; "
        f"ms p50 {q(0.5):.1f} p90 {q(0.9):.1f} p99 {q(0.99):.1f} max {times[-1] * 1000:.1f}"
    )


if __name__ == "__main__":
    main()
