# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced (POSIX sh) by the end-to-end tests: boots Debian 12's own kernel with a dracut
# initramfs under QEMU (TCG: these machines have no usable KVM), with a swtpm TPM and a
# fixed set of devices, into a tiny busybox root that reports what it sees and powers off.
#
#   vm_kernel                  Debian's kernel (the one linux-image-amd64 depends on), fetched
#                              with apt-get download and unpacked with dpkg -x into
#                              $DEVGATE_VM_CACHE, never installed; sets VM_KVER, VM_KMODDIR,
#                              VM_VMLINUZ
#   vm_dracut_base DIR [NNname=MODULE_DIR]...
#                              DIR becomes a private dracutbasedir: symlinks to the system's
#                              dracut plus each MODULE_DIR as modules.d/NNname (the same NNname
#                              as a system module replaces it); sets VM_DRACUT_BASE
#   vm_dracut OUT [DRACUT_ARG]...
#                              builds the initramfs OUT for VM_KVER with VM_DRACUT_BASE, the
#                              host's configuration left out; log in OUT.log
#   vm_rootfs OUT [DIR]        OUT: an ext4 image labelled dgroot with busybox and
#                              rootfs-init.sh as /sbin/init, DIR's contents copied over it;
#                              sets VM_ROOT_IMG
#   vm_boot NAME INITRD [CMDLINE_EXTRA [QEMU_ARG...]]
#                              boots a fresh copy of VM_ROOT_IMG and waits until QEMU exits,
#                              the guest halts or VM_TIMEOUT passes; prints
#                              "# NAME: wall 23.4 s (END)", END being poweroff, halted, panic,
#                              reset or timeout; status 1 on timeout only. Output in
#                              $VM_WORK/NAME (emptied first, leftover processes of an earlier
#                              run there killed): console.txt, hvc0.txt (the virtconsole),
#                              qemu.log, swtpm.log, relay.log, wall (seconds), end (END)
#   vm_report NAME             the guest's REPORT lines without "REPORT: " (format: see
#                              rootfs-init.sh); status 1 when the report is incomplete
#   vm_console NAME            the path of that boot's console.txt
#   vm_cleanup                 stops whatever vm_boot started and still runs: for the
#                              caller's EXIT trap
#
# vm_kernel, vm_dracut_base ($VM_WORK/dracut-base) and vm_rootfs ($VM_WORK/root.img) run by
# themselves when a later function needs what they set and it is unset. Each function prints
# "Bail out! ..." and exits when something it needs fails; a boot that goes wrong in the
# guest is not such a failure, it is what the tests look at. Their own variables start with
# _vm, so that they do not overwrite the caller's.
#
# Environment:
#   VM_WORK           where boots, dracut's temporary files and defaults go (default: the
#                     current directory when first needed)
#   DEVGATE_VM_CACHE  the kernel cache (default /var/tmp/devgate-vm-cache)
#   VM_DRACUT         the dracut to run (default dracut), e.g. a patched copy
#   VM_DRACUT_CONF, VM_DRACUT_CONFDIR
#                     dracut's --conf and --confdir (default /dev/null, an empty folder)
#   VM_ROOT_SIZE      size of vm_rootfs's image (default 16M)
#   VM_TIMEOUT        seconds before a boot is given up (default 240)
#   VM_TPMSTATE       swtpm state folder, to keep a TPM across boots (default: new each boot)
#   VM_TPM_DEVICE     tpm-tis (default) or tpm-crb
#   VM_KBS_PORT       when set, guest connections to 10.0.2.100:8443 reach host
#                     127.0.0.1:$VM_KBS_PORT (through relay.py, one per connection)
#   VM_LIB_DIR        this folder; found by itself when the test lives in it or in a
#                     sibling folder of it
#
# The guest's devices (fixed addresses, so that tests can name them):
#   00:02.0 pcie-root-port -> 01:00.0 virtio-blk (root disk, modern 1af4:1042)
#   00:03.0 virtio-net (user network, restrict=on)  00:04.0 virtio-serial + virtconsole
#   00:05.0 virtio-rng  00:06.0 virtio-balloon  00:07.0 qemu-xhci + usb-kbd  00:08.0 ahci
#   00:09.0 pci-serial (its driver is built into Debian's kernel: bound before the initramfs)
#   q35's own 00:1f.x functions, and the TPM (tpm-tis or tpm-crb; not a PCI device).
#
# A test typically does:
#   . "$(dirname "$0")/../vm/vm-lib.sh"
#   trap vm_cleanup EXIT; trap 'exit 1' INT TERM
#   vm_dracut initrd.img -m "bash base udev-rules rootfs-block" --add-drivers "..."
#   vm_boot plain initrd.img || echo "# timed out"
#   vm_report plain | grep -q '^virtio .* driver=virtio_rng$'

# shellcheck disable=SC2015 # "A && B || _vm_bail": bailing when either fails is meant

if [ -z "${VM_LIB_DIR-}" ]; then
        for _vm_d in "$(dirname "$0")" "$(dirname "$0")/../vm"; do
                if [ -f "$_vm_d/vm-lib.sh" ] && [ -f "$_vm_d/rootfs-init.sh" ]; then
                        VM_LIB_DIR=$(cd "$_vm_d" && pwd)
                        break
                fi
        done
fi
_vm_qemu_pid=
_vm_swtpm_pid=

_vm_bail() {
        echo "Bail out! $*"
        exit 1
}

# _vm_abs PATH: PATH made absolute, because QEMU, swtpm and dracut do not all run from
# the caller's directory.
_vm_abs() {
        case $1 in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s\n' "$PWD/$1" ;;
        esac
}

_vm_work() {
        VM_WORK=$(_vm_abs "${VM_WORK:-$PWD}")
        mkdir -p "$VM_WORK" || _vm_bail "cannot create $VM_WORK"
}

_vm_since() {
        awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

# The kernel package linux-image-amd64 depends on now, or nothing without package lists.
_vm_kernel_pkg() {
        apt-cache depends linux-image-amd64 2>/dev/null |
                sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1
}

# _vm_kernel_use DIR: DIR is a complete unpacked kernel; take it.
_vm_kernel_use() {
        read -r VM_KVER <"$1/.complete" || _vm_bail "bad kernel cache $1"
        VM_KMODDIR=$1/lib/modules/$VM_KVER
        VM_VMLINUZ=$1/boot/vmlinuz-$VM_KVER
        [ -f "$VM_VMLINUZ" ] && [ -f "$VM_KMODDIR/modules.dep.bin" ] ||
                _vm_bail "kernel cache $1 is incomplete: remove it"
}

# _vm_kernel_fetch CACHE: runs under the cache's lock, so that tests started in parallel
# download it once.
_vm_kernel_fetch() {
        _vm_pkg=$(_vm_kernel_pkg)
        [ -n "$_vm_pkg" ] && [ -e "$1/$_vm_pkg/.complete" ] && return 0
        mkdir -p "$1/debs" || _vm_bail "cannot create $1/debs"
        # A fresh machine may have no package lists, a long-lived one outdated lists whose
        # kernel the mirror no longer has: both are cured by an update, which needs root
        # and the network, so it is only tried when the download cannot do without it.
        if [ -z "$_vm_pkg" ] ||
                ! (cd "$1/debs" && apt-get download "$_vm_pkg") >"$1/download.log" 2>&1; then
                apt-get update >"$1/update.log" 2>&1 ||
                        { sed 's/^/# /' "$1/update.log" | tail -n 5; _vm_bail "apt-get update failed"; }
                _vm_pkg=$(_vm_kernel_pkg)
                [ -n "$_vm_pkg" ] || _vm_bail "apt-cache knows no linux-image-amd64"
                [ -e "$1/$_vm_pkg/.complete" ] && return 0
                (cd "$1/debs" && apt-get download "$_vm_pkg") >"$1/download.log" 2>&1 ||
                        { sed 's/^/# /' "$1/download.log" | tail -n 5; _vm_bail "apt-get download $_vm_pkg failed"; }
        fi
        for _vm_deb in "$1/debs/${_vm_pkg}"_*.deb; do :; done
        [ -f "$_vm_deb" ] || _vm_bail "apt-get download left no $_vm_pkg .deb"
        rm -rf "${1:?}/$_vm_pkg.partial" "${1:?}/$_vm_pkg"
        dpkg -x "$_vm_deb" "$1/$_vm_pkg.partial" || _vm_bail "dpkg -x $_vm_deb failed"
        for _vm_z in "$1/$_vm_pkg.partial"/boot/vmlinuz-*; do :; done
        [ -f "$_vm_z" ] || _vm_bail "$_vm_deb holds no vmlinuz"
        _vm_kver=${_vm_z##*/vmlinuz-}
        # dpkg -x runs no maintainer scripts: without depmod there is no modules.dep for
        # dracut's instmods nor for the guest's modprobe.
        depmod -b "$1/$_vm_pkg.partial" "$_vm_kver" || _vm_bail "depmod failed"
        mv "$1/$_vm_pkg.partial" "$1/$_vm_pkg" || _vm_bail "cannot rename $1/$_vm_pkg.partial"
        # The marker comes last: a tree without it may be half unpacked and is never used.
        echo "$_vm_kver" >"$1/$_vm_pkg/.complete" || _vm_bail "cannot write $1/$_vm_pkg/.complete"
        rm -f "$_vm_deb"
}

# _vm_kernel_pick CACHE: takes the kernel linux-image-amd64 depends on if it is cached; or,
# with no package lists to say which one that is, the newest cached one.
_vm_kernel_pick() {
        if [ -n "$_vm_pkg" ]; then
                [ -e "$1/$_vm_pkg/.complete" ] || return 1
                _vm_kernel_use "$1/$_vm_pkg"
        else
                _vm_d=$(printf '%s\n' "$1"/*/.complete | sort -V | tail -n1)
                [ -e "$_vm_d" ] || return 1
                _vm_kernel_use "${_vm_d%/.complete}"
        fi
}

vm_kernel() {
        _vm_cache=$(_vm_abs "${DEVGATE_VM_CACHE:-/var/tmp/devgate-vm-cache}")
        mkdir -p "$_vm_cache" || _vm_bail "cannot create $_vm_cache"
        _vm_pkg=$(_vm_kernel_pkg)
        _vm_kernel_pick "$_vm_cache" && return 0
        (
                flock 9 || _vm_bail "cannot lock $_vm_cache"
                _vm_kernel_fetch "$_vm_cache"
        ) 9>"$_vm_cache/.lock" || exit 1
        _vm_pkg=$(_vm_kernel_pkg)
        _vm_kernel_pick "$_vm_cache" || _vm_bail "no kernel in $_vm_cache"
}

vm_dracut_base() {
        [ $# -ge 1 ] || _vm_bail "usage: vm_dracut_base DIR [NNname=MODULE_DIR]..."
        _vm_db=$(_vm_abs "$1")
        shift
        # Rebuilt each time, so that a module given earlier does not linger; but only a
        # folder this function made is ever removed.
        if [ -e "$_vm_db" ]; then
                [ -e "$_vm_db/.vm-dracut-base" ] ||
                        _vm_bail "$_vm_db exists and was not made by vm_dracut_base"
                rm -rf "$_vm_db"
        fi
        mkdir -p "$_vm_db/modules.d" && : >"$_vm_db/.vm-dracut-base" ||
                _vm_bail "cannot create $_vm_db"
        for _vm_f in /usr/lib/dracut/*; do
                [ "${_vm_f##*/}" = modules.d ] || ln -s "$_vm_f" "$_vm_db/" ||
                        _vm_bail "cannot link $_vm_f"
        done
        for _vm_f in /usr/lib/dracut/modules.d/*; do
                ln -s "$_vm_f" "$_vm_db/modules.d/" || _vm_bail "cannot link $_vm_f"
        done
        for _vm_m; do
                case $_vm_m in
                *=*) _vm_n=${_vm_m%%=*} _vm_f=${_vm_m#*=} ;;
                *) _vm_n=$(basename "$_vm_m") _vm_f=$_vm_m ;;
                esac
                [ -f "$_vm_f/module-setup.sh" ] || _vm_bail "$_vm_f has no module-setup.sh"
                rm -f "$_vm_db/modules.d/$_vm_n"
                ln -s "$(_vm_abs "$_vm_f")" "$_vm_db/modules.d/$_vm_n" ||
                        _vm_bail "cannot link $_vm_f"
        done
        VM_DRACUT_BASE=$_vm_db
}

vm_dracut() {
        [ $# -ge 1 ] || _vm_bail "usage: vm_dracut OUT [DRACUT_ARG]..."
        _vm_out=$(_vm_abs "$1")
        shift
        _vm_work
        [ -n "${VM_KVER-}" ] || vm_kernel
        [ -n "${VM_DRACUT_BASE-}" ] || vm_dracut_base "$VM_WORK/dracut-base"
        mkdir -p "$VM_WORK/dracut-tmp" "$VM_WORK/dracut-confdir" ||
                _vm_bail "cannot create dracut's folders in $VM_WORK"
        _vm_t0=$(date +%s.%N)
        # dracut reads the host's /etc/dracut.conf{,.d} unless told otherwise, and a
        # host-only image would describe this machine, not the guest.
        if ! dracutbasedir=$VM_DRACUT_BASE "${VM_DRACUT:-dracut}" --force \
                --conf "${VM_DRACUT_CONF:-/dev/null}" \
                --confdir "${VM_DRACUT_CONFDIR:-$VM_WORK/dracut-confdir}" \
                --kver "$VM_KVER" --kmoddir "$VM_KMODDIR" \
                --no-hostonly --no-hostonly-cmdline --no-early-microcode --no-compress \
                --tmpdir "$VM_WORK/dracut-tmp" "$@" "$_vm_out" >"$_vm_out.log" 2>&1; then
                tail -n 25 "$_vm_out.log" | sed 's/^/# /'
                _vm_bail "dracut failed for $_vm_out, see $_vm_out.log"
        fi
        echo "# dracut ${_vm_out##*/}: $(stat -c %s "$_vm_out") bytes, $(_vm_since "$_vm_t0") s"
}

vm_rootfs() {
        [ $# -ge 1 ] || _vm_bail "usage: vm_rootfs OUT [DIR]"
        _vm_out=$(_vm_abs "$1")
        _vm_t=$_vm_out.tree
        [ -n "${VM_LIB_DIR-}" ] && [ -f "$VM_LIB_DIR/rootfs-init.sh" ] ||
                _vm_bail "set VM_LIB_DIR to the folder of vm-lib.sh"
        # The guest has no libc: a dynamically linked busybox would not even start.
        [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 ||
                _vm_bail "no static /bin/busybox (install busybox-static)"
        rm -rf "$_vm_t"
        for _vm_d in bin sbin etc dev proc sys run tmp root; do
                mkdir -p "$_vm_t/$_vm_d" || _vm_bail "cannot create $_vm_t"
        done
        cp /bin/busybox "$_vm_t/bin/busybox" &&
                cp "$VM_LIB_DIR/rootfs-init.sh" "$_vm_t/sbin/init" &&
                chmod 755 "$_vm_t/sbin/init" || _vm_bail "cannot fill $_vm_t"
        # Relative links: busybox --install would point them at the host's /usr/bin/busybox.
        for _vm_a in $(/bin/busybox --list); do
                [ -e "$_vm_t/bin/$_vm_a" ] || ln -s busybox "$_vm_t/bin/$_vm_a"
        done
        # systemd's switch-root refuses a root without an os-release.
        printf '%s\n' 'ID=devgate-test' 'NAME="devgate test root"' \
                'PRETTY_NAME="devgate test root (busybox)"' >"$_vm_t/etc/os-release"
        if [ $# -ge 2 ]; then
                cp -a "$2/." "$_vm_t/" || _vm_bail "cannot copy $2 into the root"
        fi
        rm -f "$_vm_out"
        truncate -s "${VM_ROOT_SIZE:-16M}" "$_vm_out" &&
                mke2fs -q -t ext4 -L dgroot -d "$_vm_t" "$_vm_out" ||
                _vm_bail "mke2fs failed for $_vm_out"
        rm -rf "$_vm_t"
        VM_ROOT_IMG=$_vm_out
}

# _vm_stop PID GRACE: waits GRACE tenths of a second for PID to end by itself, then
# terminates it (QEMU and swtpm both shut down cleanly on SIGTERM), then kills it.
_vm_stop() {
        [ -n "$1" ] || return 0
        _vm_i=0
        while kill -0 "$1" 2>/dev/null && [ "$_vm_i" -lt "$2" ]; do
                sleep 0.1
                _vm_i=$((_vm_i + 1))
        done
        if kill -0 "$1" 2>/dev/null; then
                kill -TERM "$1" 2>/dev/null || :
                _vm_i=0
                while kill -0 "$1" 2>/dev/null && [ "$_vm_i" -lt 50 ]; do
                        sleep 0.1
                        _vm_i=$((_vm_i + 1))
                done
                kill -KILL "$1" 2>/dev/null || :
        fi
        wait "$1" 2>/dev/null || :
}

vm_cleanup() {
        _vm_stop "${_vm_qemu_pid-}" 0
        _vm_qemu_pid=
        _vm_stop "${_vm_swtpm_pid-}" 0
        _vm_swtpm_pid=
        return 0
}

# _vm_kill_stale DIR: a run that was killed before its trap ran may have left QEMU or
# swtpm behind, holding DIR's files (and a shared VM_TPMSTATE's lock). Only processes whose
# command line names DIR are ours.
_vm_kill_stale() {
        for _vm_f in "$1/qemu.pid" "$1/swtpm.pid"; do
                [ -f "$_vm_f" ] && read -r _vm_p <"$_vm_f" || continue
                if [ -r "/proc/$_vm_p/cmdline" ] &&
                        tr '\0' ' ' <"/proc/$_vm_p/cmdline" | grep -qF -- "$1/"; then
                        kill -KILL "$_vm_p" 2>/dev/null || :
                fi
        done
}

vm_boot() {
        [ $# -ge 2 ] || _vm_bail "usage: vm_boot NAME INITRD [CMDLINE_EXTRA [QEMU_ARG...]]"
        _vm_name=$1
        _vm_initrd=$(_vm_abs "$2")
        _vm_extra=${3-}
        shift 2
        if [ $# -gt 0 ]; then shift; fi
        _vm_work
        [ -f "$_vm_initrd" ] || _vm_bail "no initramfs $_vm_initrd"
        [ -n "${VM_KVER-}" ] || vm_kernel
        [ -n "${VM_ROOT_IMG-}" ] || vm_rootfs "$VM_WORK/root.img"
        command -v qemu-system-x86_64 >/dev/null && command -v swtpm >/dev/null ||
                _vm_bail "qemu-system-x86_64 or swtpm is not installed"
        vm_cleanup
        _vm_dir=$VM_WORK/$_vm_name
        _vm_kill_stale "$_vm_dir"
        rm -rf "$_vm_dir"
        mkdir -p "$_vm_dir/tpm" && cp "$VM_ROOT_IMG" "$_vm_dir/root.img" ||
                _vm_bail "cannot prepare $_vm_dir"
        _vm_sock=$_vm_dir/swtpm.sock
        [ "${#_vm_sock}" -lt 108 ] || _vm_bail "$_vm_sock is too long for a unix socket"

        swtpm socket --tpm2 --tpmstate dir="${VM_TPMSTATE:-$_vm_dir/tpm}" \
                --ctrl type=unixio,path="$_vm_sock" --flags not-need-init,startup-clear \
                --log file="$_vm_dir/swtpm.log" </dev/null >"$_vm_dir/swtpm.out" 2>&1 &
        _vm_swtpm_pid=$!
        echo "$_vm_swtpm_pid" >"$_vm_dir/swtpm.pid"
        _vm_i=0
        while [ ! -S "$_vm_sock" ] && [ "$_vm_i" -lt 100 ] && kill -0 "$_vm_swtpm_pid" 2>/dev/null; do
                sleep 0.05
                _vm_i=$((_vm_i + 1))
        done
        if [ ! -S "$_vm_sock" ]; then
                vm_cleanup
                sed 's/^/# /' "$_vm_dir/swtpm.out" "$_vm_dir/swtpm.log" 2>/dev/null || :
                _vm_bail "swtpm did not start for $_vm_name"
        fi

        _vm_net=user,id=n0,restrict=on
        if [ -n "${VM_KBS_PORT-}" ]; then
                # QEMU splits options at commas and slirp splits the command at blanks.
                case $VM_LIB_DIR in
                *[!A-Za-z0-9_./+-]*) _vm_bail "the relay's path $VM_LIB_DIR has characters QEMU cannot take" ;;
                esac
                # The system's python, not a wrapper (pyenv's shim) that might say something
                # on stderr, which would reach the guest.
                _vm_py=/usr/bin/python3
                [ -x "$_vm_py" ] || _vm_py=$(command -v python3) ||
                        _vm_bail "python3 is needed for VM_KBS_PORT"
                # "cmd:" starts one relay per guest connection; a "tcp:" target would be
                # connected once at QEMU's start and serve a single connection only.
                _vm_net="$_vm_net,guestfwd=tcp:10.0.2.100:8443-cmd:$_vm_py $VM_LIB_DIR/relay.py 127.0.0.1 $VM_KBS_PORT"
        fi

        _vm_t0=$(date +%s.%N)
        _vm_deadline=$(($(date +%s) + ${VM_TIMEOUT:-240}))
        DEVGATE_RELAY_LOG=$_vm_dir/relay.log qemu-system-x86_64 \
                -accel tcg,thread=multi -cpu max -machine q35 -smp 2 -m 1024 \
                -nodefaults -display none -monitor none -no-reboot \
                -chardev file,id=ser0,path="$_vm_dir/console.raw" -serial chardev:ser0 \
                -kernel "$VM_VMLINUZ" -initrd "$_vm_initrd" \
                -append "console=ttyS0 root=LABEL=dgroot rw rd.skipfsck rd.shell=0 panic=-1 printk.devkmsg=on $_vm_extra" \
                -device pcie-root-port,id=rp1,chassis=1,slot=1,bus=pcie.0,addr=0x2 \
                -drive file="$_vm_dir/root.img",format=raw,if=none,id=d0 \
                -device virtio-blk-pci,drive=d0,bus=rp1 \
                -netdev "$_vm_net" -device virtio-net-pci,netdev=n0,bus=pcie.0,addr=0x3 \
                -device virtio-serial-pci,id=vser,bus=pcie.0,addr=0x4 \
                -chardev file,id=hvc,path="$_vm_dir/hvc0.raw" -device virtconsole,chardev=hvc,bus=vser.0 \
                -device virtio-rng-pci,bus=pcie.0,addr=0x5 \
                -device virtio-balloon-pci,bus=pcie.0,addr=0x6 \
                -device qemu-xhci,id=xhci,bus=pcie.0,addr=0x7 -device usb-kbd,bus=xhci.0 \
                -device ahci,id=ahci0,bus=pcie.0,addr=0x8 \
                -device pci-serial,bus=pcie.0,addr=0x9 \
                -chardev socket,id=chrtpm,path="$_vm_sock" -tpmdev emulator,id=tpm0,chardev=chrtpm \
                -device "${VM_TPM_DEVICE:-tpm-tis},tpmdev=tpm0" \
                "$@" </dev/null >"$_vm_dir/qemu.log" 2>&1 &
        _vm_qemu_pid=$!
        echo "$_vm_qemu_pid" >"$_vm_dir/qemu.pid"

        # A guest that halts instead of powering off leaves QEMU running.
        _vm_end=
        while kill -0 "$_vm_qemu_pid" 2>/dev/null; do
                if grep -q 'reboot: System halted' "$_vm_dir/console.raw" 2>/dev/null; then
                        _vm_end=halted
                        break
                fi
                if [ "$(date +%s)" -gt "$_vm_deadline" ]; then
                        _vm_end=timeout
                        break
                fi
                sleep 0.25
        done
        _vm_qrc=0
        if [ -n "$_vm_end" ]; then
                _vm_stop "$_vm_qemu_pid" 0
        else
                wait "$_vm_qemu_pid" || _vm_qrc=$?
        fi
        _vm_qemu_pid=
        _vm_wall=$(_vm_since "$_vm_t0")
        # swtpm ends by itself once QEMU has gone; give it a moment before stopping it.
        _vm_stop "$_vm_swtpm_pid" 30
        _vm_swtpm_pid=
        rm -f "$_vm_dir/qemu.pid" "$_vm_dir/swtpm.pid"

        # The serial line ends lines with CR LF; tests grep for whole lines.
        for _vm_f in console hvc0; do
                if [ -f "$_vm_dir/$_vm_f.raw" ]; then
                        tr -d '\r' <"$_vm_dir/$_vm_f.raw" >"$_vm_dir/$_vm_f.txt" &&
                                rm -f "$_vm_dir/$_vm_f.raw"
                else
                        : >"$_vm_dir/$_vm_f.txt"
                fi
        done
        if [ -z "$_vm_end" ]; then
                if [ "$_vm_qrc" -ne 0 ]; then
                        sed 's/^/# /' "$_vm_dir/qemu.log" || :
                        _vm_bail "qemu failed for $_vm_name (status $_vm_qrc)"
                fi
                if grep -q 'reboot: Power down' "$_vm_dir/console.txt"; then
                        _vm_end=poweroff
                elif grep -q 'Kernel panic' "$_vm_dir/console.txt"; then
                        _vm_end=panic
                else
                        _vm_end=reset
                fi
        fi
        echo "$_vm_wall" >"$_vm_dir/wall"
        echo "$_vm_end" >"$_vm_dir/end"
        echo "# $_vm_name: wall $_vm_wall s ($_vm_end)"
        if [ "$_vm_end" = timeout ]; then
                echo "# $_vm_name: timed out after ${VM_TIMEOUT:-240} s"
                return 1
        fi
}

vm_console() {
        _vm_work
        printf '%s\n' "$VM_WORK/$1/console.txt"
}

vm_report() {
        _vm_work
        _vm_f=$VM_WORK/$1/console.txt
        [ -f "$_vm_f" ] || return 1
        sed -n 's/^REPORT: //p' "$_vm_f"
        grep -q '^REPORT-END$' "$_vm_f"
}
