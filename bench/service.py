"""Generation service throughput and latency: continuous batching against one request at a time.

Starts `talewright serve` twice on loopback, once with batching and once with `--no-batching`,
and sends 60-token continuations (n=1, min_tokens = max_tokens = 60, so every request does the
same work) from 1, 8, 32 and 128 concurrent clients. Prints aggregate generated tokens/s and
p50/p95 request latency per level, then the batched/unbatched ratios of requests answered per
second against the targets (>= 6x at 32, >= 10x at 128, p95 <= 4 s at 32). The ratios count
requests, not tokens: every request asks the same work, but with story reranking a corpus
passage may win, and then the answer is as long as the passage.

Each level runs once per `--rerank` (default both):
- `logprob`: a request samples its one candidate, so the ratio is what continuous batching of
  concurrent requests gains;
- `story` (the served default): a request samples a pool of 5 and reads them once more after a
  story-less prompt, so even the unbatched server decodes 5 rows at a time and the ratio is
  bounded by how much better 160 rows use the cores than 5 do.

On Linux it also prints each server's peak resident memory, and requests per CPU-second of the
server process: on a machine shared with other work, wall-clock figures measure the neighbours
as much as the service, and CPU-normalised ones do not.

    .venv/bin/python bench/service.py [--checkpoint DIR ...] [--device auto|cpu|cuda] [--quick]

Several checkpoints (an LSTM and a transformer, say) are measured one after the other, each
with its own pair of servers, and each gets its table: the same work, so they compare directly.

With `--openai` it then measures the OpenAI-compatible endpoint on the batched server beside the
native one, with the same work (60-token continuations, n=1, story reranking): tokens/s of
/v1/generate, of /v1/completions and of streamed /v1/completions, and the time to the first
streamed token, at the `--openai-concurrency` levels (default 1 and 32); `--openai-only` skips
the batched/unbatched comparison.

The checkpoint defaults to the bundled default model (the transformer), else the bundled LSTM,
else runs/lstm-default/best.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
# generators.paths.bundled_checkpoints() order, spelt out: run from bench/, `import generators`
# would find bench/generators.py, not the package.
CANDIDATES = (
    ROOT / "generators" / "checkpoints" / "transformer",
    ROOT / "generators" / "checkpoints" / "default",
    ROOT / "runs" / "lstm-default" / "best",
)
TOKENS = 60
WIDTHS = (7, 8, 6, 8, 5, 5, 6, 9)
TURNS = (
    "Lily found a key under the old tree.",
    "Tom and his dog ran to the park to fly a red kite.",
    "The little bird could not find its way home in the rain.",
    "Mia baked a cake for her grandmother, but the oven was broken.",
)


@dataclass
class Level:
    rerank: str
    mode: str
    concurrency: int
    requests: int
    requests_per_s: float
    tokens_per_s: float
    p50_s: float
    p95_s: float
    errors: int
    requests_per_cpu_s: float | None


def default_checkpoint() -> Path | None:
    return next((p for p in CANDIDATES if (p / "config.json").is_file()), None)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process, from /proc (None where there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_memory_mb(pid: int) -> float | None:
    """The process's peak resident memory (VmHWM) in MB, from /proc (None where there is none)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(
    args: argparse.Namespace, checkpoint: Path, batching: bool
) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "TALEWRIGHT_SERVICE__MAX_BATCH": str(args.max_batch),
        "TALEWRIGHT_SERVICE__MAX_QUEUE": "4096",
        "TALEWRIGHT_SERVICE__REQUEST_DEADLINE_S": "3600",
    }
    if args.threads:
        env["TALEWRIGHT_SERVICE__THREADS"] = str(args.threads)
    command = [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)]
    command += ["--checkpoint", str(checkpoint), "--device", args.device]
    if not batching:
        command.append("--no-batching")
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    return process, f"http://127.0.0.1:{port}"


def wait_ready(process: subprocess.Popen, url: str, timeout_s: float = 900) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the service at {url} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the service at {url} was not ready within {timeout_s:g} s")


def request_body(index: int, rerank: str = "story") -> dict:
    turn = {"author": "bench", "text": TURNS[index % len(TURNS)]}
    params = {"max_tokens": TOKENS, "min_tokens": TOKENS, "n": 1, "seed": index, "rerank": rerank}
    return {"kind": "continue", "context": {"genre": "children", "turns": [turn]}, "params": params}


async def run_level(
    url: str, pid: int, rerank: str, mode: str, concurrency: int, requests: int
) -> Level:
    """`concurrency` clients each send requests back to back until `requests` were sent."""
    latencies: list[float] = []
    tokens = errors = 0
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=3600, limits=limits) as client:

        async def worker() -> None:
            nonlocal tokens, errors
            for index in counter:
                started = time.perf_counter()
                response = await client.post("/v1/generate", json=request_body(index, rerank))
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    errors += 1
                    continue
                tokens += sum(c["tokens"] for c in response.json()["candidates"])

        cpu_before = cpu_seconds(pid)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
        cpu_after = cpu_seconds(pid)
    cuts = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else latencies * 19
    per_cpu = None
    if cpu_before is not None and cpu_after is not None and cpu_after > cpu_before:
        per_cpu = (requests - errors) / (cpu_after - cpu_before)
    return Level(
        rerank,
        mode,
        concurrency,
        requests,
        (requests - errors) / wall,
        tokens / wall,
        cuts[9],
        cuts[18],
        errors,
        per_cpu,
    )


def openai_body(index: int, stream: bool) -> dict:
    body = {
        "model": None,
        "prompt": TURNS[index % len(TURNS)],
        "max_tokens": TOKENS,
        "min_tokens": TOKENS,
        "n": 1,
        "seed": index,
        "stream": stream,
    }
    if stream:
        body["stream_options"] = {"include_usage": True}
    return body


@dataclass
class ApiLevel:
    api: str
    concurrency: int
    requests: int
    tokens_per_s: float
    p50_s: float
    first_token_p50_s: float | None
    first_token_p95_s: float | None
    errors: int


async def run_api_level(url: str, api: str, concurrency: int, requests: int) -> ApiLevel:
    """Like run_level, on one API: `native`, `openai` or `openai-stream` (which also times the
    first streamed text)."""
    latencies: list[float] = []
    firsts: list[float] = []
    tokens = errors = 0
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=3600, limits=limits) as client:

        async def one(index: int) -> int:
            if api == "native":
                response = await client.post("/v1/generate", json=request_body(index))
                response.raise_for_status()
                return sum(c["tokens"] for c in response.json()["candidates"])
            if api == "openai":
                response = await client.post("/v1/completions", json=openai_body(index, False))
                response.raise_for_status()
                return response.json()["usage"]["completion_tokens"]
            started, used = time.perf_counter(), 0
            body = openai_body(index, True)
            async with client.stream("POST", "/v1/completions", json=body) as response:
                response.raise_for_status()
                async for line in response.aiter_lines():
                    if not line.startswith("data: {"):
                        continue
                    chunk = json.loads(line[6:])
                    if started and chunk["choices"] and chunk["choices"][0]["text"]:
                        firsts.append(time.perf_counter() - started)
                        started = 0.0
                    if chunk.get("usage"):
                        used = chunk["usage"]["completion_tokens"]
            return used

        async def worker() -> None:
            nonlocal tokens, errors
            for index in counter:
                started = time.perf_counter()
                try:
                    used = await one(index)  # not `tokens += await ...`: that loses updates
                except httpx.HTTPError:
                    errors += 1
                else:
                    tokens += used
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    first = statistics.quantiles(firsts, n=20) if len(firsts) > 1 else firsts * 19
    return ApiLevel(
        api,
        concurrency,
        requests,
        tokens / wall,
        statistics.median(latencies),
        first[9] if first else None,
        first[18] if first else None,
        errors,
    )


async def measure_apis(url: str, args: argparse.Namespace) -> list[ApiLevel]:
    levels = []
    for concurrency in args.openai_concurrency:
        count = max(concurrency * (1 if args.quick else 2), 4)
        for api in ("native", "openai", "openai-stream"):
            level = await run_api_level(url, api, concurrency, count)
            print(f"{api} x{concurrency}: {level.tokens_per_s:.1f} tokens/s", file=sys.stderr)
            levels.append(level)
    return levels


def print_api_table(levels: list[ApiLevel]) -> None:
    print(f"\nnative and OpenAI-compatible endpoints, batched, {TOKENS}-token continuations:\n")
    print(
        f"{'api':<14} {'clients':>7} {'requests':>8} {'tokens/s':>8} {'p50 s':>6} "
        f"{'first p50 s':>11} {'first p95 s':>11} {'errors':>6}"
    )
    native = {level.concurrency: level for level in levels if level.api == "native"}
    for level in levels:
        first = (
            f"{level.first_token_p50_s:>11.3f} {level.first_token_p95_s:>11.3f}"
            if level.first_token_p50_s is not None
            else f"{'-':>11} {'-':>11}"
        )
        ratio = level.tokens_per_s / max(native[level.concurrency].tokens_per_s, 1e-9)
        print(
            f"{level.api:<14} {level.concurrency:>7} {level.requests:>8} "
            f"{level.tokens_per_s:>8.1f} {level.p50_s:>6.2f} {first} {level.errors:>6}"
            f"  ({ratio:.2f}x native; target within 10%)"
        )


def requests_for(concurrency: int, batching: bool, quick: bool) -> int:
    """Two waves per level (one with --quick); a serial server's throughput does not depend on
    the level, so with --quick the unbatched run is capped at 8 requests (its p95 at higher
    levels is then that of 8 queued requests)."""
    count = max(concurrency * (1 if quick else 2), 8)
    return min(count, 8) if quick and not batching else count


def family_of(checkpoint: Path) -> str:
    """The model family a checkpoint records (talewright.json beside a Hugging Face
    config.json, else config.json); read here because this folder's generators.py hides the
    package when the script runs."""
    project = checkpoint / "talewright.json"
    config = project if project.is_file() else checkpoint / "config.json"
    return str(json.loads(config.read_text(encoding="utf-8")).get("family", "?"))


POOLS = {"logprob": "one candidate per request", "story": "a pool of 5 per request, reread"}


def print_table(
    levels: list[Level], args: argparse.Namespace, checkpoint: Path, rerank: str
) -> None:
    print(
        f"\ncheckpoint {checkpoint} ({family_of(checkpoint)})  device {args.device}  "
        f"threads {args.threads or 'default'}"
    )
    print(
        f"{TOKENS}-token continuations, n=1, rerank {rerank} ({POOLS.get(rerank, rerank)}); "
        f"max_batch {args.max_batch}\n"
    )
    header = ("clients", "requests", "req/s", "tokens/s", "p50 s", "p95 s", "errors", "req/cpu-s")
    print(f"{'mode':<10} " + " ".join(f"{h:>{w}}" for h, w in zip(header, WIDTHS, strict=True)))
    for level in levels:
        per_cpu = "-" if level.requests_per_cpu_s is None else f"{level.requests_per_cpu_s:.2f}"
        print(
            f"{level.mode:<10} {level.concurrency:>7} {level.requests:>8} "
            f"{level.requests_per_s:>6.2f} {level.tokens_per_s:>8.1f} {level.p50_s:>5.2f} "
            f"{level.p95_s:>5.2f} {level.errors:>6} {per_cpu:>9}"
        )
    by_key = {(level.mode, level.concurrency): level for level in levels}
    print("\nbatched / unbatched throughput (requests answered per second):")
    targets = {32: 6.0, 128: 10.0}
    for concurrency in args.concurrency:
        batched, unbatched = by_key[("batched", concurrency)], by_key[("unbatched", concurrency)]
        wall = batched.requests_per_s / unbatched.requests_per_s
        line = f"  {concurrency:>4} clients: {wall:6.1f}x wall"
        if batched.requests_per_cpu_s and unbatched.requests_per_cpu_s:
            ratio = batched.requests_per_cpu_s / unbatched.requests_per_cpu_s
            line += f", {ratio:6.1f}x per CPU-second"
        if concurrency in targets:
            line += f"  (target >= {targets[concurrency]:g}x)"
        print(line)
    if ("batched", 32) in by_key:
        print(
            f"  p95 at 32 clients, batched: {by_key[('batched', 32)].p95_s:.2f} s (target <= 4 s)"
        )


async def measure(args: argparse.Namespace, servers: dict[str, tuple[int, str]]) -> list[Level]:
    levels = []
    for rerank in args.rerank:
        for concurrency in args.concurrency:
            for mode, (pid, url) in servers.items():
                count = requests_for(concurrency, mode == "batched", args.quick)
                level = await run_level(url, pid, rerank, mode, concurrency, count)
                speed = f"{level.tokens_per_s:.1f} tokens/s"
                print(f"{rerank} {mode} x{concurrency}: {speed}", file=sys.stderr)
                levels.append(level)
    return levels


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--checkpoint", type=Path, nargs="+", help="model folders (default: the bundled model)"
    )
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--threads", type=int, help="torch threads in each server")
    parser.add_argument("--max-batch", type=int, default=256, help="live sequences per step")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--quick", action="store_true", help="one wave per level")
    parser.add_argument(
        "--rerank",
        nargs="+",
        default=["logprob", "story"],
        help="rerankers to measure: logprob samples one candidate, story (the default) a pool",
    )
    parser.add_argument("--openai", action="store_true", help="also the OpenAI endpoint")
    parser.add_argument("--openai-only", action="store_true", help="only the OpenAI comparison")
    parser.add_argument("--openai-concurrency", type=int, nargs="+", default=[1, 32])
    args = parser.parse_args()
    default = default_checkpoint()
    checkpoints = args.checkpoint or ([default] if default else [])
    if not checkpoints:
        parser.error("no default model found: pass --checkpoint DIR")
    for checkpoint in checkpoints:
        bench_checkpoint(args, checkpoint)
    return 0


def bench_checkpoint(args: argparse.Namespace, checkpoint: Path) -> None:
    """Both servers for one checkpoint, every level, then its tables."""
    servers = {"batched": start_server(args, checkpoint, True)}
    if not args.openai_only:
        servers["unbatched"] = start_server(args, checkpoint, False)
    levels, api_levels = [], []
    try:
        for process, url in servers.values():
            wait_ready(process, url)
        for _, url in servers.values():  # warm up: first calls allocate and load lazily
            httpx.post(f"{url}/v1/generate", json=request_body(0), timeout=600)
        targets = {mode: (process.pid, url) for mode, (process, url) in servers.items()}
        if not args.openai_only:
            levels = asyncio.run(measure(args, targets))
        if args.openai or args.openai_only:
            api_levels = asyncio.run(measure_apis(targets["batched"][1], args))
    finally:
        peaks = {mode: peak_memory_mb(process.pid) for mode, (process, _) in servers.items()}
        for process, _ in servers.values():
            process.terminate()
            process.wait(60)
    for rerank in args.rerank if levels else ():
        print_table([lv for lv in levels if lv.rerank == rerank], args, checkpoint, rerank)
    if api_levels:
        print_api_table(api_levels)
    memory = ", ".join(f"{mode} {mb:.0f} MB" for mode, mb in peaks.items() if mb is not None)
    if memory:
        print(f"\npeak resident memory of each server: {memory}")


if __name__ == "__main__":
    sys.exit(main())
