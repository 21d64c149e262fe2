/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Makes stdout and stderr pass no control character but newline and tab: what bpfctl prints comes largely
 * from other users (metadata, program and map names, file names, spec descriptions, image labels, error
 * messages quoting them), and escape sequences in it would reach the terminal of whoever runs bpfctl (root
 * included): retitle it, clear it, move the cursor to hide a line of 'bpfctl list', or on some terminals
 * write the clipboard. Each such byte (C0 controls, DEL, and C1 controls as UTF-8) is printed as '?'.
 * JSON output escapes them itself. Returns 0, or a negative errno (the streams are then left as they were). */
int terminal_safe_streams(void);
