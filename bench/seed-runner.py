#!/usr/bin/env python3
"""Runs the seed's Python (../../shared/bench/seed_reference.py, or $SEED_REFERENCE) unchanged,
with three additions the benchmarks need:

  --max-new-tokens N  passed to the seed's create_async_generator as its sampling kwarg,
                      as a gpt4free caller would (the seed's CLI always asks for 1024,
                      and the server stops a reply there);
  --rss               prints `seed_rss: max_rss_kb=K` on stderr at the end;
  a larger read buffer for its aiohttp session: aiohttp refuses a line over twice its
  buffer (128 KiB by default), and a long reply's final `message` event is one line
  holding the whole text (megabytes at 200,000 tokens), as the real server sends it.

Every other flag goes to seed_reference.py as it is. Run with Debian's /usr/bin/python3.
"""
import asyncio
import functools
import importlib.util
import os
import resource
import sys

here = os.path.dirname(os.path.abspath(__file__))
path = os.environ.get("SEED_REFERENCE") or os.path.join(here, "..", "..", "shared", "bench", "seed_reference.py")

args = sys.argv[1:]
max_new_tokens = None
report_rss = False
rest = []
i = 0
while i < len(args):
    if args[i] == "--max-new-tokens":
        max_new_tokens = int(args[i + 1])
        i += 2
    elif args[i] == "--rss":
        report_rss = True
        i += 1
    else:
        rest.append(args[i])
        i += 1

spec = importlib.util.spec_from_file_location("seed_reference", path)
seed = importlib.util.module_from_spec(spec)
spec.loader.exec_module(seed)

# Lines of up to 64 MiB.
seed.ClientSession = functools.partial(seed.ClientSession, read_bufsize=32 * 1024 * 1024)

if max_new_tokens is not None:
    original = seed.create_async_generator

    def with_length(*a, **kw):
        return original(*a, max_new_tokens=max_new_tokens, **kw)

    seed.create_async_generator = with_length

sys.argv = [path] + rest
asyncio.run(seed.main())
if report_rss:
    print(f"seed_rss: max_rss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)
