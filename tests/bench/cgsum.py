#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Sum and compare callgrind output files for tests/bench/bench.sh.

  cgsum.py totals DIR
      Prints "TOTAL PRELOAD FILES" for all callgrind.out.* files in DIR: the summed
      instruction count (Ir) of every process of one run, the part of it spent inside
      umockdev's LD_PRELOAD library (the testbed's path redirection, which a real boot
      does not pay) and the number of processes.

  cgsum.py profile DIR0 N0 DIR1 N1 [--top K]
      Per-device marginal profile of one program measured at two sizes: for each
      function, (inclusive Ir at N1 - inclusive Ir at N0) / (N1 - N0); then the same
      for the self cost of each ELF object.

PRELOAD is the inclusive cost of every call from outside libumockdev-preload into it,
minus what those wrappers forward to the real function of the same name: what is left
is the wrapper's own path checking (getenv, realpath, locking, ...). The constructor
of the library, run by the dynamic loader in every process, counts too.
"""

import argparse
import collections
import os
import re
import sys

PRELOAD = "libumockdev-preload"
NAME = re.compile(r"^\((\d+)\)(?: (.*))?$")


def base_name(fn):
    # "openat64", "realpath@@GLIBC_2.3" -> "openat", "realpath"
    fn = fn.split("@", 1)[0]
    return fn[:-2] if fn.endswith("64") else fn


class Profile:
    def __init__(self):
        self.total = 0
        self.self_cost = collections.Counter()  # fn id -> self Ir
        self.calls = collections.Counter()  # (caller id, callee id) -> inclusive Ir
        self.fn_obj = {}  # fn id -> object
        self.fn_name = {}  # fn id -> "name" (object-qualified ids)
        self.files = 0

    def load(self, path):
        names = {"ob": {}, "fl": {}, "fn": {}}
        ob = fl = fn = None
        cob = cfn = None
        pending_call = False
        local = {}  # this file's fn id -> global key

        def resolve(kind, value):
            m = NAME.match(value)
            if not m:
                return value
            if m.group(2) is not None:
                names[kind][m.group(1)] = m.group(2)
                return m.group(2)
            return names[kind][m.group(1)]

        def key(obj, name):
            k = (obj, name)
            self.fn_obj[k] = obj
            self.fn_name[k] = name
            return k

        self.files += 1
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.rstrip("\n")
                if not line or line[0] == "#":
                    continue
                c = line[0]
                if c.isdigit() or c in "+-*":
                    fields = line.split()
                    cost = int(fields[-1]) if len(fields) > 1 else 0
                    if pending_call:
                        callee = key(cob if cob is not None else ob, cfn)
                        self.calls[(key(ob, fn), callee)] += cost
                        pending_call = False
                        cob = None
                    else:
                        self.self_cost[key(ob, fn)] += cost
                    continue
                k, _, v = line.partition("=")
                if k == "ob":
                    ob = resolve("ob", v)
                elif k in ("fl", "fi", "fe"):
                    fl = resolve("fl", v)
                elif k == "fn":
                    fn = resolve("fn", v)
                    key(ob, fn)
                elif k == "cob":
                    cob = resolve("ob", v)
                elif k in ("cfi", "cfl"):
                    resolve("fl", v)
                elif k == "cfn":
                    cfn = resolve("fn", v)
                elif k == "calls":
                    pending_call = True
                elif line.startswith("summary:") or line.startswith("totals:"):
                    if line.startswith("summary:"):
                        self.total += int(line.split()[1])
        del fl, local

    def preload(self):
        entered = forwarded = 0
        for (caller, callee), cost in self.calls.items():
            in_caller = PRELOAD in (self.fn_obj[caller] or "")
            in_callee = PRELOAD in (self.fn_obj[callee] or "")
            if not in_caller and in_callee:
                entered += cost
            elif in_caller and not in_callee and base_name(self.fn_name[caller]) == base_name(
                    self.fn_name[callee]):
                forwarded += cost
        return entered - forwarded

    def inclusive(self):
        inc = collections.Counter(self.self_cost)
        for (caller, callee), cost in self.calls.items():
            if caller != callee:
                inc[caller] += cost
        return inc

    def by_object(self):
        out = collections.Counter()
        for k, cost in self.self_cost.items():
            out[os.path.basename(self.fn_obj[k] or "?")] += cost
        return out


def load_dir(d):
    p = Profile()
    for name in sorted(os.listdir(d)):
        if name.startswith("callgrind.out"):
            p.load(os.path.join(d, name))
    if p.files == 0:
        sys.exit("cgsum: no callgrind.out.* files in %s" % d)
    return p


def label(k):
    obj, name = k
    return "%s [%s]" % (name, os.path.basename(obj or "?"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("totals")
    t.add_argument("dir")
    p = sub.add_parser("profile")
    p.add_argument("dir0")
    p.add_argument("n0", type=int)
    p.add_argument("dir1")
    p.add_argument("n1", type=int)
    p.add_argument("--top", type=int, default=30)
    args = ap.parse_args()

    if args.cmd == "totals":
        prof = load_dir(args.dir)
        print(prof.total, prof.preload(), prof.files)
        return 0

    a, b = load_dir(args.dir0), load_dir(args.dir1)
    dn = args.n1 - args.n0
    ia, ib = a.inclusive(), b.inclusive()
    # Unnamed functions of stripped libraries ("0x...") say nothing on their own.
    rows = [(k, (ib[k] - ia.get(k, 0)) / dn) for k in ib if not k[1].startswith("0x")]
    rows.sort(key=lambda r: -r[1])
    print("Inclusive instructions per device, by function (top %d):" % args.top)
    for k, v in rows[:args.top]:
        print("  %10.0f  %s" % (v, label(k)))
    oa, ob_ = a.by_object(), b.by_object()
    print("Self instructions per device, by ELF object:")
    for obj, v in sorted(((o, (ob_[o] - oa.get(o, 0)) / dn) for o in ob_), key=lambda r: -r[1]):
        if abs(v) >= 0.5:
            print("  %10.0f  %s" % (v, obj))
    return 0


if __name__ == "__main__":
    sys.exit(main())
