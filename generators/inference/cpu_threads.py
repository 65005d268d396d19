"""How many threads each torch operation may use while serving, unless a person sets `threads`.

Serving runs torch on several Python threads at once (the scheduler's decoding, the scoring
batcher, side work, the event loop's helpers). Each such thread gets its own OpenMP team as
wide as the torch setting, and once the teams together hold more threads than the machine has
cores, OpenMP stops spinning between operations and puts its workers to sleep instead: every
one of a decoding step's hundred small operations then pays a wake-up. On a 2-core Intel Xeon
(AVX-512, AMX) one transformer step of 3 rows took 3.9 ms on the main thread with 2 threads
and 9.7 ms on a worker thread, 5.1 ms there with 1 thread. Served with one thread, a story
continue (passage index, story reranker, 10 validation stories) took 0.46 s against 0.79 s with
two, and `bench/service.py --quick` answered one client 2.37 requests/s against 1.35 (the story
pool) and 4.31 against 1.98 (one candidate); at 32 clients the batched server answered 4.60
against 5.22 requests/s with the pool and 19.8 against 19.6 with one candidate. The LSTM's
continue by log-probability took 0.44 s against 0.38 s. So one thread is the default: the
bot's load is a few requests at a time, where it halves the wait; a server that expects many
at once may set more.
"""

from __future__ import annotations

SERVING_THREADS = 1


def set_serving_threads(threads: int | None) -> int:
    """Set torch's threads per operation to `threads`, or `SERVING_THREADS` when unset; return
    the number set."""
    import torch

    chosen = threads or SERVING_THREADS
    torch.set_num_threads(chosen)
    return chosen
