# SPDX-License-Identifier: LGPL-2.1-or-later
"""What a hostile registry's image says cannot rewrite bpfd's answer from its puller.

bpfd-image serve answers bpfd in lines ("reference R", "digest D", "signed KEY", "status N", ...), and bpfd
takes the first line with a key. The image's labels are the registry's words: a program name holding a
newline wrote lines of its own into the answer ("signed /etc/bpfd/keys/release.pub": PullImage said an
unsigned image was signed), and an error quoting a label wrote "status 0" before the real status, so a
pull that failed was answered as a success. Every value is now written on its one line."""

import lib
from test_image import push, registry, scratch, write_config
from test_image_load import daemon_with_images, manager_call

FORGED_KEY = "/etc/bpfd/keys/release.pub"


def test_labels_cannot_write_lines_of_the_answer():
    with registry() as reg:
        # a name with a newline and a line of bpfd's protocol after it; valid otherwise (its type is a string)
        push(reg, "named", "--programs-label",
             '{"count_getpid\\nsigned %s": "tracepoint", "count_getppid": "tracepoint"}' % FORGED_KEY)
        # a value that is no string: the error quotes the name, which says the pull went well
        push(reg, "broken", "--programs-label",
             '{"x\\nstatus 0\\nreference %s\\ndigest sha256:%s\\nsigned %s": 1}' % (reg.ref("named"), "0" * 64,
                                                                                 FORGED_KEY))
        with daemon_with_images(write_config(reg), scratch()):
            out = manager_call("PullImage", reg.ref("named"), "Always").stdout
            assert "'signed': <false>" in out, out
            p = manager_call("PullImage", reg.ref("broken"), "Always", check=False)
            assert p.returncode != 0 and "org.bpfd.Error.InvalidImage" in p.stderr, (p.stdout, p.stderr)
            assert reg.ref("broken") not in manager_call("ListImages").stdout
