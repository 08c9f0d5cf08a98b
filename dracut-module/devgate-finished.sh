#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# initqueue/finished: the initqueue is not done before the site policy is in force, or
# rd.devgate.timeout= has passed and rd.devgate.failure= was carried out.
. /usr/lib/devgate/devgate-lib.sh
devgate_attest_finished
