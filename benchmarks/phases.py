"""Where a grader's time goes, measured with clocks around its steps (not a profiler, which
inflates Python's many small calls against C's few big ones).

    with Phases() as phases:
        ... run a grader ...
        phases.start()   # from here on (after warming up)
        ... wait until it has graded enough ...
        print(phases.report(graded))

Each step is timed where it starts and ends: the envelope of each delivery, the decoding of each
body, the store's read and write of each batch, the judging between them, and the transaction's
begin and commit. What is left of the wall-clock time is pika's (reading the deliveries' frames,
the acks, the replies and announcements) and any wait for the broker. The clocks cost about a
microsecond a message; the benchmark's figures come from runs without them.
"""

from __future__ import annotations

import time
from collections import Counter

from grader.live import consumer, grading, store


class Phases:
    def __init__(self):
        self.seconds: Counter[str] = Counter()
        self.started: float | None = None
        self._saved: list[tuple[object, str, object]] = []

    def __enter__(self) -> Phases:
        self._wrap(consumer, "envelope", "envelope")
        self._wrap(grading, "parse", "decoding")
        self._wrap(store.Transaction, "load", "store read")
        self._wrap(store.Transaction, "apply", "store write")
        original = store.Store.run_transaction
        seconds = self.seconds

        def run_transaction(self_, work, **kwargs):
            def timed_work(tx):
                begun = time.perf_counter()
                try:
                    return work(tx)
                finally:
                    seconds["work"] += time.perf_counter() - begun
            begun = time.perf_counter()
            try:
                return original(self_, timed_work, **kwargs)
            finally:
                seconds["transaction"] += time.perf_counter() - begun
        self._saved.append((store.Store, "run_transaction", original))
        store.Store.run_transaction = run_transaction
        return self

    def __exit__(self, *exc) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)

    def _wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name)
        seconds = self.seconds

        def timed(*args, **kwargs):
            begun = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                seconds[label] += time.perf_counter() - begun
        self._saved.append((owner, name, original))
        setattr(owner, name, timed)

    def start(self) -> None:
        self.seconds.clear()
        self.started = time.perf_counter()

    def shares(self, wall: float) -> dict[str, float]:
        """Each step's share of `wall` seconds since `start()`, and pika's (the rest)."""
        s = self.seconds
        steps = {"envelope": s["envelope"], "decoding": s["decoding"], "store read": s["store read"],
                 "store write": s["store write"],
                 "judging": s["work"] - s["store read"] - s["store write"],
                 "begin+commit": s["transaction"] - s["work"]}
        shares = {label: seconds / wall for label, seconds in steps.items()}
        shares["pika and waits"] = 1 - sum(shares.values())
        return shares

    def report(self, graded: int) -> str:
        wall = time.perf_counter() - self.started
        parts = [f"{label} {share:.0%} ({share * wall / graded * 1e6:.0f} us)"
                 for label, share in sorted(self.shares(wall).items(), key=lambda item: -item[1])]
        return "where the grader's time goes, per answer: " + ", ".join(parts)
