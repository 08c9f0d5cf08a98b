#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# pre-udev: before udev loads any driver module, close the gate and apply the baseline.
. /usr/lib/devgate/devgate-lib.sh
devgate_stage_gate
