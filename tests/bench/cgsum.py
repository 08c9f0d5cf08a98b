#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Sum and compare callgrind output files for tests/bench/bench.sh.

  cgsum.py totals DIR
      Prints "TOTAL PRELOAD FILES" for all callgrind.out.* files in DIR: the summed
      instruction count (Ir) of every process of one run, the part of it spent inside
      umockdev's LD_PRELOAD library (the testbed's path redirection, which a real boot
      does not pay) and the number of processes.

  cgsum.py profile DIR0 N0 DIR1 N1 [--top K]
      Per-device marginal profile of one program measured at two sizes: for each call
      made by the program's own functions, (inclusive Ir at N1 - at N0) / (N1 - N0);
      then the same for the self cost of each ELF object. Both with and without what
      the preload library costs ("net" and "testbed").

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
        # A function is known by (ELF object, name), the same in every file of a run.
        self.self_cost = collections.Counter()  # function -> self Ir
        self.calls = collections.Counter()  # (caller, callee) -> inclusive Ir of the calls
        self.fn_obj = {}  # function -> object
        self.fn_name = {}  # function -> name
        self.files = 0

    def load(self, path):
        # Names are compressed per file: "(12) name" the first time, "(12)" after.
        names = {"ob": {}, "fl": {}, "fn": {}}
        ob = fn = None
        cob = cfn = None
        pending_call = False

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
                    # a cost line: position(s), then Ir (the only event recorded)
                    fields = line.split()
                    cost = int(fields[-1]) if len(fields) > 1 else 0
                    if pending_call:
                        # the line after "calls=" is the inclusive cost of those calls;
                        # without "cob=" the callee is in the caller's object
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
                    resolve("fl", v)
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
                elif line.startswith("summary:"):
                    self.total += int(line.split()[1])

    def preload(self):
        entered = forwarded = 0
        for (caller, callee), cost in self.calls.items():
            in_caller = self.is_preload(caller)
            in_callee = self.is_preload(callee)
            if not in_caller and in_callee:
                entered += cost
            elif in_caller and not in_callee and base_name(self.fn_name[caller]) == base_name(
                    self.fn_name[callee]):
                forwarded += cost
        return entered - forwarded

    def is_preload(self, k):
        return PRELOAD in (self.fn_obj.get(k) or "")

    def inclusive(self):
        inc = collections.Counter(self.self_cost)
        for (caller, callee), cost in self.calls.items():
            if caller != callee:
                inc[caller] += cost
        return inc

    def preload_share(self, inc):
        """Per function, the part of its inclusive cost spent in the preload library.

        Callgrind keeps only caller -> callee edges, not whole stacks, so a function's
        share of preload cost is spread evenly over its call sites. Iterated to a fixed
        point because the call graph has cycles."""
        edges = collections.defaultdict(list)
        for (caller, callee), cost in self.calls.items():
            if caller != callee:
                edges[caller].append((callee, cost))
        share = {k: 0.0 for k in inc}
        for _ in range(40):
            changed = False
            for f, out in edges.items():
                if self.is_preload(f):
                    continue
                p = 0.0
                for g, cost in out:
                    if self.is_preload(g):
                        # the wrapper's own work; what it forwards is real work
                        fwd = sum(c for h, c in edges.get(g, ())
                                  if not self.is_preload(h)
                                  and base_name(self.fn_name[h]) == base_name(self.fn_name[g]))
                        p += cost * (1 - fwd / inc[g]) if inc[g] else cost
                    elif inc[g]:
                        p += cost * share[g] / inc[g]
                if abs(p - share[f]) > 0.5:
                    share[f] = p
                    changed = True
            if not changed:
                break
        for k in inc:
            if self.is_preload(k):
                share[k] = float(inc[k])
        return share

    def from_preload(self):
        """Per function, the fraction of its calls made on behalf of the preload library
        (by it, or by a function it called), from the incoming edges, iterated."""
        into = collections.defaultdict(list)
        for (caller, callee), cost in self.calls.items():
            if caller != callee:
                into[callee].append((caller, cost))
        frac = {k: 1.0 if self.is_preload(k) else 0.0 for k in self.fn_obj}
        for _ in range(40):
            changed = False
            for g, ins in into.items():
                if self.is_preload(g):
                    continue
                total = sum(c for _, c in ins)
                if not total:
                    continue
                v = sum(c * frac[f] for f, c in ins) / total
                if abs(v - frac[g]) > 1e-6:
                    frac[g] = v
                    changed = True
            if not changed:
                break
        return frac

    def by_object(self, frac=None):
        """Self cost per ELF object; given frac (from_preload()), less what runs on
        behalf of the preload library."""
        out = collections.Counter()
        for k, cost in self.self_cost.items():
            f = frac.get(k, 0.0) if frac else 0.0
            out[os.path.basename(self.fn_obj[k] or "?")] += cost * (1 - f)
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
    pa, pb = a.preload_share(ia), b.preload_share(ib)
    fa, fb = a.from_preload(), b.from_preload()

    # Call sites in the program itself (the object that holds main): what each of its
    # functions spends in each function it calls, including everything below.
    main_obj = next((o for o, n in b.fn_obj if n == "main"), None)

    def edge_net(p, inc, share, frac, edge, cost):
        caller, callee = edge
        if p.is_preload(callee):
            return 0.0
        part = cost * share.get(callee, 0.0) / inc[callee] if inc.get(callee) else 0.0
        return (cost - part) * (1 - frac.get(caller, 0.0))

    rows = []
    for edge, cost in b.calls.items():
        caller, callee = edge
        if caller == callee or b.fn_obj[caller] != main_obj or caller[1] == "(below main)":
            continue
        c0 = a.calls.get(edge, 0)
        raw = (cost - c0) / dn
        n = (edge_net(b, ib, pb, fb, edge, cost) - edge_net(a, ia, pa, fa, edge, c0)) / dn
        rows.append((edge, raw, n))
    rows.sort(key=lambda r: -r[2])
    print("Per device, by call site in %s (inclusive, top %d by net):" % (
        os.path.basename(main_obj or "?"), args.top))
    print("  %10s  %10s  %s" % ("net", "testbed", "caller -> callee [callee's object]"))
    for (caller, callee), raw, n in rows[:args.top]:
        if abs(raw) < 0.5:
            continue
        print("  %10.0f  %10.0f  %s -> %s" % (n, raw, caller[1], label(callee)))
    na, nb = a.by_object(fa), b.by_object(fb)
    ra, rb = a.by_object(), b.by_object()
    print("Self instructions per device, by ELF object:")
    print("  %10s  %10s  %s" % ("net", "testbed", "object"))
    for o in sorted(rb, key=lambda o: -(rb[o] - ra.get(o, 0))):
        raw = (rb[o] - ra.get(o, 0)) / dn
        if abs(raw) >= 0.5:
            print("  %10.0f  %10.0f  %s" % ((nb[o] - na.get(o, 0)) / dn, raw, o))
    return 0


if __name__ == "__main__":
    sys.exit(main())
