#!/usr/bin/env python3
"""Write the fuzz seed corpus: corpus/<target>/seed-*.

Slices of the reference client's pinned files (core/tests/fixtures) plus a
few hand-made metas. Keep the set small; run from anywhere.
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "core", "tests", "fixtures")

meta_lines = open(os.path.join(FIX, "python.meta"), "rb").read().split(b"\n")
values = open(os.path.join(FIX, "python.values"), "rb").read()
small_meta = open(os.path.join(FIX, "python_small.meta"), "rb").read()
small_values = open(os.path.join(FIX, "python_small.values"), "rb").read()


def layout(lines):
    """(offset, size) of each line, as the decoder computes them."""
    out, offset = [], 0
    for line in lines:
        size = int(line.split(b" ")[1].rstrip(b":"))
        out.append((offset, size))
        offset += size
    return out


slots = layout(meta_lines)


def python_slice(indices):
    """A meta of some of the Python lines, and their values re-packed."""
    meta = b"\n".join(meta_lines[i] for i in indices)
    vals = b"".join(values[slots[i][0]:slots[i][0] + slots[i][1]] for i in indices)
    return meta, vals


n = len(meta_lines)
escaped = [i for i, l in enumerate(meta_lines) if b"\\" in l][:8]
seeds = {
    "python-head": python_slice(range(0, 24)),
    "python-escapes": python_slice(escaped),
    "python-states": python_slice(range(n - 12, n)),
    "python-mixed": python_slice(escaped[:3] + list(range(n - 8, n))),
    # States of sizes 0-7 (`state 8` to `state 15`).
    "python-small-states": (small_meta, small_values),
}

hand = {
    "protocol-example": b'counter 8: {"name": "1"}\nlevel 8 signed: {"name": "2"}\n'
    b'counter 8: {"name": "3"}\npad 40\nstate 64: {"name": "100"}\n',
    "unknown-types": b'histogram 24 foo: {"a": "b"}\ncounter 8: {}\nblob 3\n'
    b'level 8 complex: {}\nlevel 8 unsigned: {"u": "1"}\nlevel 8 float: {"f": "2"}\n',
    "noncanonical": b'counter 8: { "z" : "1" ,\t"a":"\\u00E9\\/\\ud83d\\ude00" }\r\n'
    b'counter 8: {"b":"\\u0041","a":"x"}\nstate 16:{"s":"\\t"}\n',
    "errors": b'counter 8: {"a": "\\q"}\n',
    # A core histogram (buckets of their own ranges, +Inf, count, sum), a
    # recorder one (cumulative buckets, a float sum) and a sharded counter:
    # the shapes the reader groups.
    "histograms": b'counter 8: {"cantal_histogram": "count", "metric": "d"}\n'
    b'counter 8: {"cantal_histogram": "sum", "metric": "d"}\n'
    b'counter 8: {"cantal_le": "+Inf", "metric": "d"}\n'
    b'counter 8: {"cantal_le": "16", "metric": "d"}\n'
    b'counter 8: {"cantal_le": "2", "metric": "d"}\n'
    b'counter 8: {"metric": "h_count"}\nlevel 8 float: {"metric": "h_sum"}\n'
    b'counter 8: {"le": "10", "metric": "h_bucket"}\n'
    b'counter 8: {"le": "2.5", "metric": "h_bucket"}\n'
    b'counter 8: {"cantal_shard": "0", "metric": "s"}\npad 56\n'
    b'counter 8: {"cantal_shard": "1", "metric": "s"}\npad 56\n',
    # Every row of cli/README.md's decision table: lines the lenient parser
    # skips (or reads) where the strict one stops.
    "lenient": b'level 8 complex: {"a": "1"}\nlevel 8: {"a": "2"}\nblob 8: {"a": "3"}\n'
    b'blob 3\ncounter 4: {"a": "4"}\ncounter 16: {"a": "5"}\nstate 8: {"a": "6"}\n'
    b'state 12: {"a": "7"}\npad 8: {"a": "8"}\npad 0\ncounter 8: {"a": "9", "a": "x"}\n'
    b'counter 8: {"a": "10"}\ncounter 8: {"a": "10"}\ncounter  8: {"a": "11"}\n'
    b' counter 8: {"a": "12"}\n\ncounter 8: {"a": "13"}\n\n',
    # Canonical lines next to near-misses of the fast path (meta_fast):
    # prefix keys, equal keys, CRLF, a pad and a state at the end.
    "fast-edges": b'counter 8: {"a": "1", "aa": "2", "ab": "3"}\n'
    b'counter 8: {"a": "1", "a": "2"}\ncounter 8: {"b": "1", "a": "2"}\n'
    b'state 640: {"": ""}\r\nlevel 8 unsigned: {}\nstate 08: {"x": "~"}\npad 8',
}


def values_for(meta):
    total = 0
    for line in meta.split(b"\n"):
        if line.strip():
            try:
                total += int(line.split(b" ")[1].rstrip(b":").rstrip(b"\r"))
            except ValueError:
                pass
    # Recognisable bytes, a state-like NUL, no 0xFF.
    return bytes((i * 37 + 1) % 255 for i in range(total))


for target in ("meta", "meta_values", "reader", "meta_fast"):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, (meta, vals) in seeds.items():
        data = meta if target in ("meta", "meta_fast") else meta + b"\xff" + vals
        open(os.path.join(d, "seed-" + name), "wb").write(data)
    for name, meta in hand.items():
        data = meta if target in ("meta", "meta_fast") else meta + b"\xff" + values_for(meta)
        open(os.path.join(d, "seed-" + name), "wb").write(data)
