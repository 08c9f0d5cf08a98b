#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# pre-pivot: the final pass before the real root takes over.
. /usr/lib/devgate/devgate-lib.sh
devgate_stage_final
