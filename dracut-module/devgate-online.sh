#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# initqueue/online: the network is up, fetch the site policy.
. /usr/lib/devgate/devgate-lib.sh
devgate_stage_attest
