/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>

#include "device.h"

/* A policy document that allows exactly the devices present, each pinned to the driver
 * bound now, and denies everything else. Virtio functions are named by type. */
json_object *policy_generate(DeviceList lists[], size_t n_lists, const char *name);
