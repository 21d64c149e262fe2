/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the TC dispatcher's two files (tc-dispatcher.c, tc-dispatcher-hook.c) share. */

#include <linux/rtnetlink.h>
#include <stdint.h>

#include "netdev-dump.h"

/* One rtnetlink dump of type (RTM_GETQDISC, RTM_GETTFILTER) for the tcmsg t; cb sees every answer. */
int tc_rtnl_dump(uint16_t type, const struct tcmsg *t, rtnl_dump_cb cb, void *userdata);
/* The kind of the qdisc at ffff: of ifindex ("clsact" or "ingress"), "" if it has none. */
int tc_hook_qdisc_kind(int ifindex, char ret[static 16]);
