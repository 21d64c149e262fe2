/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/* bpfd's helpers (the inspection zygote and its spares, the openers) run as other uids (nobody or
 * bpfd-inspect, the caller's): only a thread with CAP_KILL may send them SIGKILL, and one that does not end
 * (stopped by any process of its uid, blocked in a FUSE request) must hold neither the bus thread nor the
 * worker in waitpid(). The reaper is a thread of its own that keeps CAP_KILL and nothing else: it kills what it
 * is handed, and reaps it once it has ended (its pidfd becomes readable), without anybody waiting for it. */

/* Starts the reaper thread from a thread that has CAP_KILL (the worker); it keeps only CAP_KILL. */
int helper_reaper_start(void);
/* At exit, after the worker ended: the reaper sends what it holds its SIGKILL and ends (a thread that keeps a
 * capability the exiting thread lacks could not be stopped by the sanitizers' leak check, nor should it
 * outlive the worker that started it). */
void helper_reaper_stop(void);

/* pid is a child of bpfd not reaped yet (so its pid cannot have been reused): it is sent SIGKILL and reaped
 * when it ends. Never blocks. Its exit status is lost. */
void helper_kill(pid_t pid);

/* How long bpfd waits for a spare bpfd-inspect's answer (seconds): $BPFD_INSPECT_TIMEOUT_SEC for the tests,
 * else HELPER_ANSWER_TIMEOUT_SEC. */
#define HELPER_ANSWER_TIMEOUT_SEC 90
unsigned helper_answer_timeout_sec(void);

/* Opens a pidfd for pid (-errno on failure). */
int helper_pidfd_open(pid_t pid);
