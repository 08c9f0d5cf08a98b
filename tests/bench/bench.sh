#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Benchmark of devgate's decide+enforce pass, in instructions per device.
#
# Three programs do the same job on a synthetic tree of PCI functions (gen-tree.py) in a
# umockdev testbed: devgate itself (a real, non-dry-run "apply" with
# policies/cc-default.json), floor.c (reads the six ID files of each function and writes
# driver_override, nothing else: the least any such program can do) and loop.sh (the
# same as a POSIX-sh loop, one "$(cat ...)" per attribute, the way early-boot hooks are
# usually written).
#
# Why instructions and not time: callgrind counts the instructions a program executes
# (Ir), which is the same from one run to the next whatever else the machine is doing,
# so the figures can be compared across machines and commits. It counts user space
# only: system calls are counted up to the syscall instruction, not inside the kernel.
#
# Why a marginal cost: each program runs at two tree sizes, and the figure is
# (Ir(N1) - Ir(N0)) / (N1 - N0), so process start-up, policy loading, library
# initialisation and lazy symbol binding drop out and what is left is the cost of one
# more device. The small size is N/10, not 0, for devgate and the floor, so that every
# code path has already run once in both runs.
#
# Why the shell loop gets small sizes: with --trace-children=yes every fork and exec
# becomes a new valgrind instance (that is where such a loop spends its instructions,
# and why they must be counted), about 0.2 s each; 20 devices (120 execs of cat) take
# some 25 s. gen-tree.py repeats a fixed cycle of 20 functions, so 20 devices have
# exactly the mix of 1000.
#
# Why two columns: in the testbed every open(), read(), close() goes through umockdev's
# LD_PRELOAD library, which redirects /sys paths and costs far more instructions than the
# call itself (about 95% of the floor). A real boot does not pay it, so the "net" column
# subtracts the instructions spent inside that library (cgsum.py explains how), and for
# every process a run execs (the shell loop's cats) what the dynamic loader spends on
# having one more library to search, measured once on "cat /dev/null" with and without
# the preload. Checked by hand against runs on a plain copy of the tree bind-mounted over
# /sys in a private mount namespace, without umockdev (and with fstatfs() made to answer
# "sysfs", which libudev insists on): equal for the floor, within 0.2% for devgate and
# 1.5% for the shell loop. The net figures are the ones that predict a guest; the
# targets are checked on both.
#
# Exit status: 0 the benchmark ran (whether or not the targets are met: it measures, it
# does not test), 1 a measurement failed, 2 usage or missing tools.

set -u

bench_dir=$(cd "$(dirname "$0")" && pwd)
self=$bench_dir/$(basename "$0")
src_root=$(cd "$bench_dir/../.." && pwd)

usage() {
        cat <<EOF
Usage: $self [OPTIONS] [DEVGATE [FLOOR]]

Measures instructions per device (valgrind --tool=callgrind) of devgate apply, of the
floor program and of a POSIX-sh loop on a synthetic umockdev tree of PCI functions.

  DEVGATE               the devgate binary (default: $src_root/build/devgate)
  FLOOR                 the floor binary (default: build tests/bench/floor.c with \${CC:-cc})

Options:
  --devices N           devices for devgate and the floor (default 1000; the second
                        size is N/10, both rounded down to a multiple of 20)
  --shell-devices N     devices for the shell loop (default 20; the second size is 0)
  --policy FILE         policy for devgate (default policies/cc-default.json)
  --shell PROGRAM       shell that runs loop.sh (default /bin/sh)
  --profile             always print devgate's per-device profile (default: only when
                        devgate is above 2x the floor)
  --keep                keep the work folder with the trees and callgrind files
  -h --help             show this help

Exit status: 0 measured (targets met or not), 1 a measurement failed, 2 usage error.
EOF
}

# ---- inside the testbed: set up what a recording lacks, run one program ----------------

if [ "${1:-}" = "--in-testbed" ]; then
        name=$2 n=$3 out=$4

        # umockdev records devices, not buses or drivers (tests/fixtures/README.md):
        # devgate turns off drivers_autoprobe, binds through drivers_probe and unbinds
        # through the driver's "unbind", so they must exist as files. The driver links of
        # the tree point to /sys/bus/pci/drivers/NAME.
        for bus in pci virtio usb; do
                mkdir -p "/sys/bus/$bus/drivers" || exit 1
                echo 1 >"/sys/bus/$bus/drivers_autoprobe" || exit 1
                : >"/sys/bus/$bus/drivers_probe" || exit 1
        done
        for drv in $BENCH_DRIVERS; do
                mkdir -p "/sys/bus/pci/drivers/$drv" || exit 1
                : >"/sys/bus/pci/drivers/$drv/bind" || exit 1
                : >"/sys/bus/pci/drivers/$drv/unbind" || exit 1
        done

        cg="valgrind --tool=callgrind --callgrind-out-file=$out/callgrind.out.%p"
        case $name in
        devgate)
                $cg "$BENCH_DEVGATE" --state-dir "$out/state" apply --insecure-unsigned --policy "$BENCH_POLICY" \
                        >"$out/stdout" 2>"$out/stderr"
                ;;
        floor)
                $cg "$BENCH_FLOOR" >"$out/stdout" 2>"$out/stderr"
                ;;
        exec)
                $cg cat /dev/null >"$out/stdout" 2>"$out/stderr"
                ;;
        shell)
                # Every $(cat ...) forks and execs: follow them all.
                $cg --trace-children=yes "$BENCH_SHELL" "$bench_dir/loop.sh" \
                        >"$out/stdout" 2>"$out/stderr"
                ;;
        esac
        rc=$?

        # Whatever the program, every function should now have a driver_override.
        written=0
        for f in /sys/bus/pci/devices/*/driver_override; do
                [ -e "$f" ] || continue
                # (read fails on a value without a final newline, but still sets v)
                v=
                read -r v <"$f"
                [ -z "$v" ] || [ "$v" = "(null)" ] || written=$((written + 1))
        done
        echo "$rc $written" >"$out/result"
        exit 0
fi

# ---- outside: arguments, trees, runs, figures -----------------------------------------

devices=1000
shell_devices=20
policy=$src_root/policies/cc-default.json
shell=/bin/sh
profile=auto
keep=false
devgate=
floor=

while [ $# -gt 0 ]; do
        case $1 in
        -h | --help)
                usage
                exit 0
                ;;
        --devices | --shell-devices | --policy | --shell)
                [ $# -ge 2 ] || {
                        echo "bench: $1 needs a value" >&2
                        exit 2
                }
                case $1 in
                --devices) devices=$2 ;;
                --shell-devices) shell_devices=$2 ;;
                --policy) policy=$2 ;;
                --shell) shell=$2 ;;
                esac
                shift 2
                ;;
        --devices=*) devices=${1#*=} && shift ;;
        --shell-devices=*) shell_devices=${1#*=} && shift ;;
        --policy=*) policy=${1#*=} && shift ;;
        --shell=*) shell=${1#*=} && shift ;;
        --profile) profile=yes && shift ;;
        --keep) keep=true && shift ;;
        -*)
                echo "bench: unknown option $1" >&2
                usage >&2
                exit 2
                ;;
        *)
                if [ -z "$devgate" ]; then
                        devgate=$1
                elif [ -z "$floor" ]; then
                        floor=$1
                else
                        echo "bench: unexpected argument $1" >&2
                        exit 2
                fi
                shift
                ;;
        esac
done

for v in "$devices" "$shell_devices"; do
        case $v in
        '' | *[!0-9]*)
                echo "bench: device counts must be numbers, not '$v'" >&2
                exit 2
                ;;
        esac
done
# The tree repeats a cycle of 20 functions: whole cycles keep the mix the same.
n1=$((devices / 20 * 20))
n0=$((devices / 10 / 20 * 20))
s1=$((shell_devices / 20 * 20))
s0=0
[ "$s1" -gt 0 ] || s1=$shell_devices
if [ "$n1" -le "$n0" ] || [ "$n1" -gt 10240 ] || [ "$s1" -le 0 ] || [ "$s1" -gt 10240 ]; then
        echo "bench: --devices must be 20..10240 and --shell-devices 1..10240" >&2
        exit 2
fi
[ "$n1" = "$devices" ] || echo "bench: using $n1 devices (whole cycles of 20)" >&2

: "${devgate:=$src_root/build/devgate}"
for t in umockdev-run valgrind python3; do
        command -v "$t" >/dev/null || {
                echo "bench: $t is needed (apt-get install umockdev valgrind python3)" >&2
                exit 2
        }
done
[ -x "$devgate" ] || {
        echo "bench: no devgate binary at $devgate (build it, or pass its path)" >&2
        exit 2
}
[ -r "$policy" ] || {
        echo "bench: cannot read policy $policy" >&2
        exit 2
}
command -v "$shell" >/dev/null || {
        echo "bench: no shell $shell" >&2
        exit 2
}

work=$(mktemp -d "${TMPDIR:-/tmp}/devgate-bench.XXXXXX") || exit 2
if $keep; then
        echo "bench: keeping $work" >&2
else
        trap 'rm -rf "$work"' EXIT
        trap 'exit 1' HUP INT TERM
fi

if [ -z "$floor" ]; then
        floor=$work/floor
        ${CC:-cc} -O2 -D_GNU_SOURCE -o "$floor" "$bench_dir/floor.c" || exit 2
fi
[ -x "$floor" ] || {
        echo "bench: no floor binary at $floor" >&2
        exit 2
}

abspath() { (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")"); }
BENCH_DEVGATE=$(abspath "$devgate")
BENCH_FLOOR=$(abspath "$floor")
BENCH_POLICY=$(abspath "$policy")
BENCH_SHELL=$(command -v "$shell")
BENCH_DRIVERS=$(python3 "$bench_dir/gen-tree.py" --list-drivers | tr '\n' ' ')
export BENCH_DEVGATE BENCH_FLOOR BENCH_POLICY BENCH_SHELL BENCH_DRIVERS
# Nothing below writes outside the work folder, not even by accident.
cd "$work" || exit 2

# Same locale for every run: cat's setlocale() alone costs hundreds of thousands of
# instructions per exec with a UTF-8 locale. "C" is what an initramfs usually has, and
# the cheaper choice for the shell loop.
LC_ALL=C
export LC_ALL
unset LANG LANGUAGE

failed=0

# measure NAME N: one program on a fresh tree of N devices; prints "TOTAL PRELOAD FILES".
measure() {
        name=$1 n=$2
        out=$work/$name-$n
        tree=$work/tree-$n.umockdev
        mkdir -p "$out" || return 1
        if [ ! -e "$tree" ]; then
                python3 "$bench_dir/gen-tree.py" --devices "$n" --output "$tree" || return 1
        fi
        start=$(date +%s)
        # A fresh testbed per run: devgate and the floor both write into the tree.
        if ! umockdev-run -d "$tree" -- /bin/sh "$self" --in-testbed "$name" "$n" "$out" \
                >"$out/umockdev.log" 2>&1 || [ ! -s "$out/result" ]; then
                echo "bench: $name on $n devices: umockdev-run failed:" >&2
                sed 's/^/  /' "$out/umockdev.log" >&2
                return 1
        fi
        read -r rc written <"$out/result"
        echo "bench: $name on $n devices: $(($(date +%s) - start)) s, exit status $rc," \
                "$written driver_override written" >&2

        ok=true
        [ "$rc" = 0 ] || ok=false
        case $name in
        exec) ;;
        devgate)
                # "Applied 'cc-default' version 1: 550 allowed, 450 denied, 0 failed."
                summary=$(grep '^Applied ' "$out/stdout" | tail -n 1)
                decided=$(echo "$summary" | sed -n 's/.*: \([0-9]*\) allowed, \([0-9]*\) denied, \([0-9]*\) failed\.$/\1 \2 \3/p')
                # shellcheck disable=SC2086 # three numbers, split on purpose
                set -- $decided
                if [ $# -ne 3 ] || [ $(($1 + $2)) -ne "$n" ] || [ "$3" -ne 0 ]; then
                        echo "bench: devgate did not decide all $n devices: '$summary'" >&2
                        ok=false
                fi
                ;;
        *)
                [ "$written" = "$n" ] || ok=false
                ;;
        esac
        if ! $ok; then
                echo "bench: $name on $n devices failed; its output:" >&2
                sed 's/^/  /' "$out/stdout" "$out/stderr" | grep -v '^  ==[0-9]*==' | tail -n 20 >&2
                return 1
        fi
        totals=$(python3 "$bench_dir/cgsum.py" totals "$out") || return 1
        # shellcheck disable=SC2086 # three numbers, split on purpose
        set -- $totals
        if [ $# -ne 3 ] || [ "$1" -le 0 ]; then
                echo "bench: $name on $n devices: no instruction count in $out" >&2
                return 1
        fi
        echo "bench: $name on $n devices: $1 instructions in $3 process(es)," \
                "$2 of them in the umockdev preload" >&2
        echo "$totals"
}

# What one exec costs the dynamic loader in the testbed beyond what cgsum.py counts as
# the preload's: "cat /dev/null" in an empty testbed, less its preload part, less the same
# outside the testbed.
exec_extra() {
        a=$(measure exec 0) || return 1
        out=$work/exec-native
        mkdir -p "$out" || return 1
        valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out.%p" cat /dev/null \
                >"$out/stdout" 2>"$out/stderr" || {
                echo "bench: valgrind cat /dev/null failed:" >&2
                sed 's/^/  /' "$out/stderr" >&2
                return 1
        }
        b=$(python3 "$bench_dir/cgsum.py" totals "$out") || return 1
        [ -n "$a" ] && [ -n "$b" ] || return 1
        echo "$a $b" | awk '{ x = ($1 - $2) - $4; if (x < 0) x = 0; printf "%.0f\n", x }'
}

# per_device NAME N0 N1: "RAW NET" instructions per device
per_device() {
        a=$(measure "$1" "$2") || return 1
        b=$(measure "$1" "$3") || return 1
        [ -n "$a" ] && [ -n "$b" ] || return 1
        echo "$a $b" | awk -v n0="$2" -v n1="$3" -v c="$exec_cost" '{
                printf "%.0f %.0f\n", ($4 - $1) / (n1 - n0),
                        (($4 - $5) - ($1 - $2) - ($6 - $3) * c) / (n1 - n0) }'
}

exec_cost=$(exec_extra) || {
        echo "bench: a measurement failed, no figures" >&2
        exit 1
}
echo "bench: an exec costs the dynamic loader $exec_cost more instructions in the testbed" >&2
floor_pd=$(per_device floor "$n0" "$n1") || failed=1
devgate_pd=$(per_device devgate "$n0" "$n1") || failed=1
shell_pd=$(per_device shell "$s0" "$s1") || failed=1

if [ "$failed" -ne 0 ]; then
        echo "bench: a measurement failed, no figures" >&2
        exit 1
fi

echo "$floor_pd $devgate_pd $shell_pd" | awk -v n0="$n0" -v n1="$n1" -v s0="$s0" -v s1="$s1" \
        -v shell="$BENCH_SHELL" '
function grp(x,   s, neg) {
        x = sprintf("%.0f", x); neg = x ~ /^-/; sub(/^-/, "", x); s = ""
        while (length(x) > 3) { s = "," substr(x, length(x) - 2) s; x = substr(x, 1, length(x) - 3) }
        return (neg ? "-" : "") x s
}
function verdict(ok) { return ok ? "met" : "NOT met" }
{
        fr = $1; fn = $2; dr = $3; dn = $4; sr = $5; sn = $6
        print ""
        print "decide+enforce: instructions per device (valgrind --tool=callgrind, Ir)"
        print "marginal cost (Ir(N1) - Ir(N0)) / (N1 - N0), start-up excluded"
        print ""
        printf "%-9s %-11s %15s %9s %17s %9s\n", "program", "devices", "testbed", "x floor", "net of umockdev", "x floor"
        printf "%-9s %-11s %15s %9.2f %17s %9.2f\n", "floor", n0 "->" n1, grp(fr), 1, grp(fn), 1
        printf "%-9s %-11s %15s %9.2f %17s %9.2f\n", "devgate", n0 "->" n1, grp(dr), dr / fr, grp(dn), dn / fn
        printf "%-9s %-11s %15s %9.2f %17s %9.2f\n", "shell", s0 "->" s1, grp(sr), sr / fr, grp(sn), sn / fn
        print ""
        print "The shell loop (" shell " tests/bench/loop.sh) is measured on " s0 " and " s1 " devices only:"
        print "under callgrind with --trace-children=yes every exec of cat is a new valgrind."
        print "\"net of umockdev\" leaves out the instructions spent in umockdev'"'"'s LD_PRELOAD"
        print "path redirection and, for each exec, the dynamic loader'"'"'s work for that"
        print "library: a real boot runs neither. It is the column that predicts a guest."
        print ""
        printf "%-24s %-20s %-20s\n", "target", "testbed", "net of umockdev"
        printf "%-24s %-20s %-20s\n", "devgate / floor <= 2", \
                sprintf("%.2f %s", dr / fr, verdict(dr / fr <= 2)), sprintf("%.2f %s", dn / fn, verdict(dn / fn <= 2))
        printf "%-24s %-20s %-20s\n", "shell / devgate >= 100", \
                sprintf("%.1f %s", sr / dr, verdict(sr / dr >= 100)), sprintf("%.1f %s", sn / dn, verdict(sn / dn >= 100))
        if (dn / fn <= 2)
                print "PROFILE=no" > "/dev/stderr"
        else
                print "PROFILE=yes" > "/dev/stderr"
}' 2>"$work/verdict" || exit 1

if [ "$profile" = yes ] || { [ "$profile" = auto ] && grep -q PROFILE=yes "$work/verdict"; }; then
        echo ""
        echo "Where devgate's instructions per device go ($n0 -> $n1 devices):"
        python3 "$bench_dir/cgsum.py" profile "$work/devgate-$n0" "$n0" "$work/devgate-$n1" "$n1" \
                --top 40 || exit 1
fi
exit 0
