/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "policy.h"

/* The state directory (/run/devgate) carries a boot's decisions from the initramfs into
 * the real root:
 *
 *   policy.json  the policy in force, exactly the bytes that were verified (or, for the
 *                baseline, that came with the initramfs image); "devgate device" decides
 *                every device that appears later with it
 *   state.json   the decisions of the last full pass, for "devgate status"
 *   lock         held while a pass or a single device is being decided, so that a device
 *                that appears during a pass is decided once the pass is done, with the
 *                policy the pass installed
 */

/* Takes the lock, creating the directory; returns the fd that holds it. */
int state_lock(void);

/* Installs the policy in force. */
int state_save_policy(const Policy *policy);

/* Loads the policy in force; -ENOENT when there is none (devgate is not in charge). */
int state_load_policy(Policy **ret);

/* Records the decisions of a full pass. */
int state_save_decisions(const char *text, size_t size);
