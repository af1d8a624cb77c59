#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fault_steps.sh: where the time of ONE 1-page fault goes, step by step,
# over extpager's data channel, over netlink, and with userfaultfd.
#
# Runs in the guest, as root (it uses tracefs and kprobes):
#
#   scripts/vm run -- bench/fault_steps.sh [PAGES]
#   bench/fault_steps.sh --parse [DIR]     (re-parse saved traces, anywhere)
#
# For each case ("extpager 1-page channel", "extpager 1-page netlink",
# "userfaultfd 1-page") it runs build/bench/fault_bench PAGES (256: a
# multiple of 32) with FAULT_BENCH_ONLY set to the case, untraced, then
# traced, then untraced again.  fault_bench runs each of its rows (1
# thread, 2 threads, 1 thread pinned to CPU 0) 5 times; only the pinned
# row is analysed, so a few hundred faults (5 x PAGES) per case.  Its
# threads are told apart by glibc's sched_setaffinity(tid, ...) on each
# pinned thread it creates: the toucher (the faulting thread) and the
# manager or userfaultfd handler made just before it.
#
# Traced: exceptions:page_fault_user, extpager:*, sched_switch and
# sched_wakeup, raw_syscalls (all of the bench's threads, through
# set_event_pid), the io_uring events that fire per request, and kprobes
# on handle_mm_fault (entry and return, VM_FAULT_RETRY told apart),
# extpager_fault, filemap_add_folio, extpager_readahead, extpager_deliver,
# extpager_supply_request, handle_userfault and mfill_atomic_copy.  Clock: x86-tsc, converted with
# the TSC frequency the guest calibrated (ns resolution; the text trace
# of the "local" clock only has microseconds).
#
# Parsing: a fault is the time from one page_fault_user of the faulting
# thread to its next (so the last step includes the return to user space
# and the bench's own loop and timer reads, ~2 clock_gettime()).  Within
# it, the events of the faulting thread (F) and of its manager/handler
# (M), and the context switches between them, make a sequence of labels;
# the most common sequence is the "typical fault", and each step's median
# and mean is taken over the faults that followed it exactly (those that a
# timer tick's reschedule or another task interrupted take another path:
# the coverage is printed).  Shares are of the sum of the step medians
# (the means, also printed, are pulled up by the host's stalls).  A second
# table sums the step medians by who runs: F in the kernel, M in the
# kernel, M in user space, and the fault's return to user space.
#
# The tracing itself costs: compare "traced" with "untraced" (fault_bench's
# own pinned median for the same row, each printed).  Steps with kprobes
# (handle_mm_fault twice, extpager_*) are inflated more than the others.
#
# Output in $FAULT_STEPS_OUT (build/fault_steps): the raw CPU 0 traces,
# fault_bench's outputs (stderr in KEY.stderr), and report.txt (what is printed).
set -eu

cd "$(dirname "$0")/.."
OUT=${FAULT_STEPS_OUT:-build/fault_steps}

parse()
{
	python3 - "$1" <<'PYEOF'
import collections, os, re, statistics, sys

out = sys.argv[1]
CASES = [("channel", "extpager 1-page, io_uring data channel (LIBPAGER_TRANSPORT=channel)"),
         ("netlink", "extpager 1-page, generic netlink (LIBPAGER_TRANSPORT=netlink)"),
         ("uffd", "userfaultfd 1-page, UFFDIO_COPY")]
SYSCALLS = {0: "read", 1: "write", 3: "close", 7: "poll", 9: "mmap", 10: "mprotect",
            11: "munmap", 14: "rt_sigprocmask", 16: "ioctl", 24: "sched_yield",
            44: "sendto", 45: "recvfrom", 46: "sendmsg", 47: "recvmsg", 202: "futex",
            203: "sched_setaffinity", 228: "clock_gettime", 232: "epoll_wait",
            233: "epoll_ctl", 270: "pselect6", 271: "ppoll", 281: "epoll_pwait",
            426: "io_uring_enter", 441: "epoll_pwait2"}
LINE = re.compile(r'^\s*(.*?)-(\d+)\s+\[(\d+)\]\s+(?:\S+\s+)?(\d+(?:\.\d+)?):\s+(\w+):\s?(.*)$')
KV = re.compile(r'(\w+)=(\S+)')
VM_FAULT_RETRY = 0x400

mhz = None
try:
    mhz = float(open(os.path.join(out, "tsc_mhz")).read().split()[0])
except (OSError, ValueError, IndexError):
    pass

def read_events(path):
    ev = []
    for line in open(path, errors="replace"):
        m = LINE.match(line)
        if not m:
            continue
        comm, pid, cpu, ts, name, rest = m.groups()
        if "." in ts:
            t = float(ts) * 1e6
        elif mhz:
            t = int(ts) / mhz
        else:
            sys.exit("fault_steps: a tsc trace and no TSC frequency")
        ev.append((t, int(pid), name, rest))
    return ev

def bench_median(path):
    """fault_bench's median for the pinned row, and its timer cost."""
    med = timer = None
    try:
        for line in open(path):
            tok = line.split()
            if len(tok) > 6 and tok[-5] == "cpu0":
                med = float(tok[-4])
            m = re.search(r'timer ([\d.]+) us', line)
            if m:
                timer = float(m.group(1))
    except OSError:
        pass
    return med, timer

def pct(x, tot):
    return 100.0 * x / tot if tot else 0.0

def analyse(key, title, rep):
    path = os.path.join(out, key + ".trace")
    if not os.path.exists(path):
        rep(f"\n== {title}: no trace ({path})")
        return
    ev = read_events(path)
    # Pinned threads, in creation order: sched_setaffinity(tid, ...) by glibc.
    pinned = []
    for t, pid, name, rest in ev:
        if name == "sys_enter" and rest.startswith("NR 203 ("):
            tid = int(rest[8:].split(",")[0], 16)
            if tid and tid not in pinned:
                pinned.append(tid)
    nfault = collections.Counter(pid for t, pid, name, rest in ev if name == "page_fault_user")
    upcall = collections.Counter(pid for t, pid, name, rest in ev
                                 if name in ("extpager_request", "userfault"))
    pairs = []
    for i, tid in enumerate(pinned):
        if upcall[tid] >= 8 and i and not upcall[pinned[i - 1]]:
            pairs.append((tid, pinned[i - 1]))
    if not pairs:
        rep(f"\n== {title}: no pinned faulting thread found in {path}")
        return
    windows = []		# (duration, labels, times) of served faults
    for F, M in pairs:
        who = lambda p: "F" if p == F else "M" if p == M else "x"
        mine = []
        for t, pid, name, rest in ev:
            if name == "sched_switch":
                kv = dict(KV.findall(rest))
                a, b = int(kv.get("prev_pid", -1)), int(kv.get("next_pid", -1))
                if who(a) == "x" and who(b) == "x":
                    continue
                st = kv.get("prev_state", "?")
                mine.append((t, f"switch {who(a)}({st})->{who(b)}"))
                continue
            if name == "sched_wakeup":
                kv = dict(KV.findall(rest))
                w = who(int(kv.get("pid", -1)))
                if w != "x":
                    mine.append((t, f"{who(pid)} wakes {w}"))
                continue
            if pid not in (F, M):
                continue
            if name == "page_fault_user":
                lab = "fault"
            elif name in ("sys_enter", "sys_exit"):
                nr = int(rest.split()[1])
                lab = ("enter " if name == "sys_enter" else "exit ") + SYSCALLS.get(nr, f"sys{nr}")
            elif name == "mm_fault_ret":
                r = re.search(r'ret=(0x[0-9a-f]+|\d+)', rest)
                v = int(r.group(1), 0) if r else 0
                lab = "handle_mm_fault ret" + (" RETRY" if v & VM_FAULT_RETRY else "")
            elif name == "mm_fault":
                lab = "handle_mm_fault"
            else:
                lab = name
            mine.append((t, f"{who(pid)} {lab}"))
        starts = [i for i, (t, lab) in enumerate(mine) if lab == "F fault"]
        for a, b in zip(starts, starts[1:]):
            labs = [lab for t, lab in mine[a:b]]
            if not any(l in ("F extpager_request", "F userfault") for l in labs):
                continue	# a minor fault of the thread's own (stack)
            windows.append((mine[b][0] - mine[a][0], tuple(labs),
                            [t for t, lab in mine[a:b + 1]]))
    if not windows:
        rep(f"\n== {title}: no served fault in {path}")
        return
    sigs = collections.Counter(w[1] for w in windows)
    top, ntop = sigs.most_common(1)[0]
    sel = [w for w in windows if w[1] == top]
    tot_all = [w[0] for w in windows]
    tot_sel = [w[0] for w in sel]
    mean_sel = statistics.fmean(tot_sel)
    meds = [statistics.median([w[2][k + 1] - w[2][k] for w in sel]) for k in range(len(top))]
    sum_med = sum(meds)
    untraced = [bench_median(os.path.join(out, f"{key}.untraced{i}.txt"))[0] for i in (1, 2)]
    traced, timer = bench_median(os.path.join(out, f"{key}.traced.txt"))
    rep(f"\n== {title}")
    rep(f"faulting threads {len(pairs)}, faults served {len(windows)}; typical path "
        f"({len(top)} events) followed by {ntop} ({pct(ntop, len(windows)):.0f}%), "
        f"{len(sigs)} paths in all")
    rep(f"fault_bench pinned median: untraced {' / '.join('%.1f' % u if u else '-' for u in untraced)} us"
        f" (before / after), traced {traced if traced else '-'} us"
        + (f" (x{traced / statistics.fmean([u for u in untraced if u]):.2f})"
           if traced and any(untraced) else "")
        + (f"; timer {timer:.2f} us included" if timer else ""))
    rep(f"traced fault, entry to next fault: median {statistics.median(tot_all):.1f} us over all "
        f"{len(windows)}, median {statistics.median(tot_sel):.1f} / mean {mean_sel:.1f} us "
        f"over the typical ones, whose step medians add up to {sum_med:.1f} us")
    rep(f"{'#':>2}  {'step: from -> to':<66} {'median':>8} {'mean':>8} {'share':>6}")
    labs = list(top) + ["F fault (next)"]
    bywho = collections.OrderedDict()
    running, mmode = "F", "kernel"
    for k in range(len(top)):
        d = [w[2][k + 1] - w[2][k] for w in sel]
        med, mean = statistics.median(d), statistics.fmean(d)
        step = f"{labs[k]} -> {labs[k + 1]}"
        rep(f"{k + 1:>2}  {step:<66} {med:8.1f} {mean:8.1f} {pct(med, sum_med):5.1f}%")
        # Who runs during this step.
        l = labs[k]
        if l.startswith("switch "):
            running = l.split("->")[1]
        if l.startswith("M exit "):
            mmode = "user"
        elif l.startswith("M enter "):
            mmode = "kernel"
        if k == len(top) - 1 and running == "F":
            cat = "F: fault done -> next fault (return to user, loop, timer)"
        elif running == "F":
            cat = "F in the kernel (fault path)"
        elif running == "M":
            cat = f"M in {'user space' if mmode == 'user' else 'the kernel'}"
        else:
            cat = "another task"
        bywho[cat] = bywho.get(cat, 0.0) + med
    rep(f"    {'by who runs (sums of the step medians)':<66} {'':>8} {'':>8} {'share':>6}")
    for cat, v in bywho.items():
        rep(f"    {cat:<66} {v:8.1f} {'':>8} {pct(v, sum_med):5.1f}%")
    others = sigs.most_common(4)[1:]
    for sig, n in others:
        extra = [l for l in sig if l not in top] or ["(same events, another order)"]
        rep(f"    other path, {n} faults ({pct(n, len(windows)):.0f}%): "
            f"{len(sig)} events; not in the typical one: {', '.join(sorted(set(extra))[:4])}")

lines = []
def rep(s=""):
    print(s)
    lines.append(s)

try:
    rep(open(os.path.join(out, "meta")).read().rstrip())
except OSError:
    pass
for key, title in CASES:
    analyse(key, title, rep)
with open(os.path.join(out, "report.txt"), "w") as f:
    f.write("\n".join(lines) + "\n")
PYEOF
}

if [ "${1:-}" = "--parse" ]; then
	parse "${2:-$OUT}"
	exit
fi

PAGES=${1:-256}
T=/sys/kernel/tracing
[ "$(id -u)" = 0 ] || { echo "fault_steps: run it as root, in the guest" >&2; exit 1; }
[ -d "$T/events" ] || mount -t tracefs nodev "$T"
mkdir -p "$OUT"
rm -f "$OUT"/*.stderr
# A copy: the build may be redone meanwhile.
cp build/bench/fault_bench "$OUT/fault_bench"
BENCH=$OUT/fault_bench

EVENTS="exceptions/page_fault_user extpager/extpager_request extpager/extpager_supply
	extpager/extpager_zero_fill extpager/extpager_error extpager/extpager_timeout
	sched/sched_switch sched/sched_wakeup raw_syscalls/sys_enter raw_syscalls/sys_exit
	io_uring/io_uring_submit_req io_uring/io_uring_complete io_uring/io_uring_task_add
	io_uring/io_uring_task_work_run io_uring/io_uring_local_work_run
	io_uring/io_uring_cqring_wait io_uring/io_uring_queue_async_work"
KPROBES='p:fault_steps/mm_fault handle_mm_fault
r:fault_steps/mm_fault_ret handle_mm_fault ret=$retval
p:fault_steps/extpager_fault extpager_fault
p:fault_steps/extpager_readahead extpager_readahead
p:fault_steps/filemap_add_folio filemap_add_folio
p:fault_steps/extpager_deliver extpager_deliver
p:fault_steps/supply_request extpager_supply_request
p:fault_steps/userfault handle_userfault
p:fault_steps/mfill_atomic_copy mfill_atomic_copy'

cleanup()
{
	echo 0 > $T/tracing_on
	echo 0 > $T/events/enable
	echo > $T/set_event_pid
	echo 0 > $T/options/event-fork
	[ -d $T/events/fault_steps ] && echo 0 > $T/events/fault_steps/enable
	sed -n 's/^[pr]:fault_steps\/\([^ ]*\).*/-:fault_steps\/\1/p' $T/kprobe_events |
		while read -r k; do echo "$k" >> $T/kprobe_events; done
	echo local > $T/trace_clock
	echo 1408 > $T/buffer_size_kb
	echo > $T/trace
}
trap cleanup EXIT

# Tracing set up, events off.
echo 0 > $T/tracing_on
cleanup
mhz=$(dmesg | sed -n 's/.*Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' | tail -1)
[ -n "$mhz" ] || mhz=$(dmesg | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz.*/\1/p' | tail -1)
if [ -n "$mhz" ] && grep -qw x86-tsc $T/trace_clock; then
	clock=x86-tsc
	echo "$mhz" > "$OUT/tsc_mhz"
else
	clock=local
	rm -f "$OUT/tsc_mhz"
fi
echo "$KPROBES" | while read -r k; do
	echo "$k" >> $T/kprobe_events 2>/dev/null ||
		echo "fault_steps: no kprobe ${k#* }, going without" >&2
done
{
	echo "fault_steps: kernel $(uname -r), $(nproc) CPUs, $PAGES pages per row," \
	     "trace clock $clock${mhz:+ ($mhz MHz)}; figures in us, under QEMU TCG"
	echo "fault_steps: io_uring events: $(cd $T/events/io_uring 2>/dev/null && ls -d io_uring_* | tr '\n' ' ')"
} > "$OUT/meta"

events()	# 0|1
{
	for e in $EVENTS; do
		[ -e $T/events/$e/enable ] && echo "$1" > $T/events/$e/enable
	done
	[ -d $T/events/fault_steps ] && echo "$1" > $T/events/fault_steps/enable
	return 0
}

bench()		# CASE-PREFIX OUTPUT [traced]
{
	if [ "${3:-}" ]; then
		echo > $T/trace
		echo $clock > $T/trace_clock
		echo 32768 > $T/buffer_size_kb
		echo 1 > $T/options/event-fork
		events 1
		FAULT_BENCH_ONLY="$1" sh -c 'echo $$ > '$T'/set_event_pid &&
			echo 1 > '$T'/tracing_on && exec "$@"' sh "$BENCH" "$PAGES" > "$2"
		echo 0 > $T/tracing_on
		events 0
	else
		FAULT_BENCH_ONLY="$1" "$BENCH" "$PAGES" > "$2"
	fi
}

for c in "channel:extpager 1-page channel" "netlink:extpager 1-page netlink" \
	 "uffd:userfaultfd 1-page"; do
	key=${c%%:*} only=${c#*:}
	echo "fault_steps: $only: untraced, traced, untraced" >&2
	bench "$only" "$OUT/$key.untraced1.txt" 2>>"$OUT/$key.stderr"
	bench "$only" "$OUT/$key.traced.txt" traced 2>>"$OUT/$key.stderr"
	cat $T/per_cpu/cpu0/trace > "$OUT/$key.trace"
	lost=$(awk '/^(overrun|dropped events):/ { n += $NF } END { print n + 0 }' \
		$T/per_cpu/cpu0/stats)
	[ "$lost" = 0 ] || echo "fault_steps: $key: $lost events lost on CPU 0" | tee -a "$OUT/meta" >&2
	echo > $T/trace
	echo 1408 > $T/buffer_size_kb
	bench "$only" "$OUT/$key.untraced2.txt" 2>>"$OUT/$key.stderr"
done

parse "$OUT"
