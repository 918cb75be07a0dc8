"""``bench.message_path``'s report: a markdown table, and its own section of BENCHMARKS.md (only that
section is rewritten; the others belong to other benchmarks)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from bench.figures import measured_at

BENCHMARKS = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
SECTION = "## Message path (DynamoDB)"
LABELS = {
    "ours": "ours: `sendMessage` through the handler, warm",
    "ours_uncached": "ours, the connection not yet cached (one GSI Query first)",
    "original": "original design: Query, Query, PutItem, PutItem, UpdateItem (plain boto3)",
}


def table(report: dict[str, Any]) -> str:
    paths = report["paths"]
    lines = [
        f"| path (median of {report['messages']}) | DynamoDB calls | sequential round trips | median ms "
        "| p90 ms | RCU | WCU | GSI WCU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, label in LABELS.items():
        p = paths[name]
        lines.append(
            f"| {label} | {p['calls']} | {p['round_trips']} | {p['median_ms']} | {p['p90_ms']} "
            f"| {p['rcu']:g} | {p['wcu']:g} | {p['gsi_wcu']:g} |"
        )
    ratio = paths["ours"]["median_ms"] / paths["original"]["median_ms"]
    lines.append(f"| **ours / original** | | | **{ratio:.2f}** | | | | |")
    if "floor_ms" in report:
        floor = report["floor_ms"]
        lines.append("")
        lines.append("With no added latency (moto's work and the code's only), median ms:")
        lines.append(
            f"ours {floor['ours']}, ours not cached {floor['ours_uncached']}, original {floor['original']}."
        )
    return "\n".join(lines)


def cost(path: dict[str, Any]) -> float:
    """Dollars per million messages at on-demand prices (us-east-1)."""
    return float((path["wcu"] + path["gsi_wcu"]) * 0.625 + path["rcu"] * 0.125)


def section(report: dict[str, Any]) -> str:
    ours, uncached, original = (report["paths"][name] for name in ("ours", "ours_uncached", "original"))
    floor, delay, claim = report["floor_ms"], report["delay_ms"], report["original_claim"]
    return f"""{SECTION}

`python -m bench.message_path` (defaults: `--messages 40 --delay-ms 10`; under a minute). Measured
{measured_at()}.

**Method.** moto runs in a process of its own behind a `ThreadedMotoServer` on 127.0.0.1
(`testing/aws.py`, `LocalMotoServer`) that sleeps {delay:g} ms before handling each request: DynamoDB's
round trip from a Lambda in its region. The sleep sits on the server's request thread, before the
lock that serializes moto (its transactions are not atomic under threads), so calls made in parallel
wait in parallel, as they do over a network; a client-side `before-send` sleep would do the same but
would also hold a pooled connection. *Ours* is the real `message` handler (`SESSION_STORE=dynamodb`,
boto3 finding the server through `AWS_ENDPOINT_URL`) answering `sendMessage` frames, the fake model
at zero latency, frames recorded in memory, timed from the event entering the handler to its return;
*ours, not cached* is the same after dropping the connection from the repository's cache, as in a
container whose `$default` has not seen the connection yet. The *original design* is plain boto3
making that design's five calls one after the other, with the same item shapes and reply sizes, on a
table of its own. The three alternate message by message (order reversed every other round) after a
warm-up round. Calls, with their start and end, come from the boto3 clients' own
`before-call`/`after-call` events; a *round trip* is a wave of calls that starts after every earlier
call has ended. Capacity is computed from item sizes by DynamoDB's rules
(`adapters/dynamodb/item_size.py`): reads from the items each Query returned (4 KB units, half for
eventually consistent reads), writes from the size of each item written (1 KB units, doubled inside a
transaction); moto's own `ConsumedCapacity` is a constant. A META write also rewrites its entry in
the connection index (projection ALL): that is the GSI column, one per META write in both designs.
Two moto artefacts are kept out of the timing: the tables have no Streams (moto keeps every stream
record in the table and copies them all on every transaction, a cost that grows through the run), and
between rounds, untimed, turns beyond the newest 24 are deleted (moto copies the whole table for every
transaction).

{table(report)}

**Reading it.** A new message costs {ours["calls"]} DynamoDB calls in {ours["round_trips"]} sequential
round trips: `record_message` sends one `TransactWriteItems` (ownership, state, expiry, user turn,
message id, turn count) while two eventually consistent Queries (the newest turns, the latest summary)
run beside it on the repository's small thread pool; `complete_exchange` sends one
`TransactWriteItems` (reply, message answered, count, expiry). The original made {original["calls"]}
calls in {original["round_trips"]} round trips, with no ownership check, no idempotency and no
atomicity. The first message of a connection in a container that has not seen it adds one GSI Query
({uncached["calls"]} calls, {uncached["round_trips"]} round trips); after that the in-process cache
answers. A cold container adds no call: it makes its client first ({report["client_creation_ms"]} ms
here, no network) and, in AWS, pays a TLS handshake on its first call.

The time left over the round trips is part ours, part moto's. Without added latency our path takes
{floor["ours"]} ms against the original's {floor["original"]} ms; of that, our handler's own work
(parsing, the prompt, streaming the reply, logs and metrics, which the baseline does not do) is
{report["memory_handler_ms"]} ms, measured on the in-memory store. The rest is moto handling a
transaction slower than a put (it copies the table) and handling our three parallel calls one after
the other; DynamoDB does neither, so in AWS the gap between the two designs is nearer the
{original["round_trips"]} against {ours["round_trips"]} round trips than this table shows.

Capacity is where the guarantees cost: transactions bill writes twice, and the idempotency record
(`MSG#`) is a third item in each, so a message writes {ours["wcu"]:g} WCU (+{ours["gsi_wcu"]:g} in the
GSI) against the original's {original["wcu"]:g} (+{original["gsi_wcu"]:g}); its own account was
{claim["rcu"]:g} RCU + {claim["wcu"]} WCU. Reads are eventually consistent: {ours["rcu"]:g} RCU against
{original["rcu"]:g}. At on-demand prices ($0.625 per million write and $0.125 per million read request
units, us-east-1) that is ${cost(ours):.2f} per million messages against ${cost(original):.2f}; what
the difference buys is exactly-once turns under Lambda and client retries, ownership checked inside the
write, and a turn count that cannot drift.
"""


def reflow(markdown: str, width: int = 100) -> str:
    """Prose paragraphs filled to ``width`` (numbers substituted into them leave ragged lines);
    tables, code and headings left as they are."""
    blocks = markdown.strip().split("\n\n")
    kept = ("|", "#", "`", "With no")
    return "\n\n".join(
        b if b.startswith(kept) else textwrap.fill(" ".join(b.split()), width, break_on_hyphens=False)
        for b in blocks
    )


def write_section(report: dict[str, Any]) -> None:
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n"
    new = reflow(section(report)) + "\n"
    start = text.find(SECTION)
    if start < 0:
        BENCHMARKS.write_text(text.rstrip() + "\n\n" + new)
        return
    end = text.find("\n## ", start + len(SECTION))
    rest = "" if end < 0 else "\n" + text[end + 1 :]
    BENCHMARKS.write_text(text[:start] + new + rest)
