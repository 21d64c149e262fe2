/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A text polkit agent (pkttyagent) for this process, so that a user on a
 * terminal without a desktop agent can type a password when bpfd asks polkit
 * with interactive authorization allowed. As systemctl does. */

/* Starts pkttyagent unless one runs already, we are root, or stdin is not a
 * terminal; waits until it has registered. Failures are not fatal: the call
 * then fails with PermissionDenied, which says enough. */
void polkit_agent_open(void);

/* Stops the agent, if one was started. */
void polkit_agent_close(void);
