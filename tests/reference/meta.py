"""Prints the meta text the reference Python client (cantal==0.2.5) writes
for the declarations of tests/python_reference.rs. Keep both in step.

Usage: python3 tests/reference/meta.py > tests/reference/declarations.meta
"""
import os
import sys
import tempfile
import warnings

import cantal

warnings.simplefilter("ignore")  # State sizes that are not 64*n - 8

c = cantal.Collection()
cantal.Counter(collection=c, group="main_loop", metric="ticks")
cantal.Integer(collection=c, group="main_loop", metric="queue")
cantal.Float(collection=c, group="main_loop", metric="load")
cantal.Counter(collection=c, **{"quote\"key": "back\\slash", "nl": "a\nb"})
cantal.Counter(collection=c, **{"tab": "a\tb", "nul": "a\x00b", "del": "\x7f"})
cantal.Integer(collection=c, **{"é": "ünïcödé", "cjk": "日本語"})
cantal.Float(collection=c, **{"emoji": "😀🚀", "": ""})
cantal.Counter(collection=c, **{"ctl": "\x01\x1f\r\x08\x0c", "slash": "/"})
cantal.State(collection=c, group="states", metric="default")
cantal.State(collection=c, size=8, group="states", metric="tiny")
cantal.State(collection=c, size=16, group="states", metric="small")
cantal.State(collection=c, size=120, group="states", metric="large")
cantal.State(collection=c, size=248, group="states", metric="huge")
for i in range(20):
    cantal.Counter(collection=c, group="many", metric="m%02d" % i)

with tempfile.TemporaryDirectory() as d:
    base = os.path.join(d, "ref")
    c.start(base)
    with open(base + ".meta", "rb") as f:
        sys.stdout.buffer.write(f.read())
