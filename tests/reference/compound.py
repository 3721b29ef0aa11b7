"""Prints the meta text the reference Python client (cantal==0.2.5) writes
for the compound metrics of tests/compound_reference.rs. Keep both in step.

Usage: python3 tests/reference/compound.py > tests/reference/compound.meta
"""
import os
import sys
import tempfile

import cantal

c = cantal.Collection()
cantal.RequestTracker("http", collection=c, service="api")
cantal.Fork(["app", "sql"], state="req", collection=c)

with tempfile.TemporaryDirectory() as d:
    base = os.path.join(d, "ref")
    c.start(base)
    with open(base + ".meta", "rb") as f:
        sys.stdout.buffer.write(f.read())
