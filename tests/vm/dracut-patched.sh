# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced (POSIX sh): a dracut that knows --authorize-device-list, for the tests that build
# an initramfs with the devgate module.
#
#   dracut_patched DIR   copies /usr/bin/dracut to DIR/dracut.sh, applies
#                        dracut-module/dracut-authorize-device-list.patch to it (patch -p1
#                        from DIR, a dry run first), makes it executable and prints its
#                        absolute path (also left in $DRACUT_PATCHED)
#
# Stock dracut has no command-line form of the authorize_device_list setting (it rejects
# the option with a getopt error); the patch adds one, as it is proposed upstream. The
# copy runs from anywhere: dracut finds its helpers and modules through $dracutbasedir
# (default /usr/lib/dracut), not through its own path, so it also works with a private
# dracutbasedir.
#
# When the patch does not apply, prints "Bail out! ..." and exits 1. Called as
# `d=$(dracut_patched DIR)`, that exit only leaves the command substitution and the
# message lands in $d, so write `d=$(dracut_patched DIR) || { echo "$d"; exit 1; }`,
# or call it directly and use $DRACUT_PATCHED.
#
# The patch is found from $VM_LIB_DIR (tests/vm, set by vm-lib.sh) or else from the
# calling script ($0 in tests/vm/ or a sibling folder), or named by $DEVGATE_DRACUT_PATCH.
# With vm-lib.sh, VM_DRACUT=$DRACUT_PATCHED makes vm_dracut use the patched copy.
# Own variables start with _dp.

_dp_top=$(cd "${VM_LIB_DIR:-$(dirname "$0")/../vm}/../.." 2>/dev/null && pwd) || _dp_top=
_dp_patch=${DEVGATE_DRACUT_PATCH:-$_dp_top/dracut-module/dracut-authorize-device-list.patch}

dracut_patched() {
        _dp_ver=$(dpkg-query -W -f='${Version}' dracut-core 2>/dev/null) || _dp_ver=""
        [ -n "$_dp_ver" ] ||
                _dp_ver=$(sed -n 's/^DRACUT_VERSION=//p' /usr/lib/dracut/dracut-version.sh 2>/dev/null)
        _dp_ver=${_dp_ver:-unknown version}
        if [ ! -r "$_dp_patch" ]; then
                _dp_why="no patch file $_dp_patch"
        elif ! mkdir -p "$1" || ! cp /usr/bin/dracut "$1/dracut.sh"; then
                _dp_why="cannot copy it to $1/dracut.sh"
        # --forward: an already patched or reversed file is a failure, not a question;
        # </dev/null: patch never waits for an answer; -r -: no .rej files in DIR.
        elif ! _dp_out=$(cd "$1" && patch -p1 --forward --dry-run -i "$_dp_patch" </dev/null 2>&1) ||
                ! _dp_out=$(cd "$1" && patch -p1 --forward --no-backup-if-mismatch -r - \
                        -i "$_dp_patch" </dev/null 2>&1) ||
                ! chmod 755 "$1/dracut.sh"; then
                _dp_why=$(printf '%s\n' "$_dp_out" | grep -v '^checking file\|^patching file' |
                        tr '\n' ' ' | sed 's/ *$//')
                _dp_why=${_dp_why:-patch failed}
        else
                DRACUT_PATCHED=$(cd "$1" && pwd)/dracut.sh
                printf '%s\n' "$DRACUT_PATCHED"
                return 0
        fi
        echo "Bail out! the --authorize-device-list patch does not apply to /usr/bin/dracut (dracut $_dp_ver): $_dp_why"
        exit 1
}
