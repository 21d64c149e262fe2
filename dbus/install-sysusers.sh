#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# meson install: create the users of the installed sysusers.d file now, as a
# distribution package's postinst would (not when staging into a DESTDIR).
[ -z "${DESTDIR:-}" ] || exit 0
command -v systemd-sysusers >/dev/null || exit 0
exec systemd-sysusers "$1"
