# SPDX-License-Identifier: LGPL-2.1-or-later
"""README's installation works verbatim and gives a bus-activated bpfd: in a private mount namespace,
/usr, /etc, /var and /dev are overlays whose changes go to a tmpfs (the real ones stay untouched, and
with-env's bind mounts of our policy and actions are hidden under them), the two commands of README's
"Installing" section run verbatim in a copy of the sources, and then, with only the installed files, a
fresh system bus and polkitd: `bpfctl status` starts bpfd through the installed activation file (with
its idle exit and syslog), README's "Using it" block runs verbatim, the manual pages and the bash
completion are found where man and bash-completion look, and `systemd-analyze verify` of the installed
units is clean."""

import os
import re
import shlex
import subprocess
import tempfile

import lib

README = os.path.join(lib.SRC_DIR, "README.md")

SETUP = r"""
set -euo pipefail
work=$1 src=$2
mount -t tmpfs -o mode=0755 tmpfs "$work/ov"
for d in usr etc var dev; do
        mkdir -p "$work/ov/$d.upper" "$work/ov/$d.work"
        mount -t overlay overlay -o "lowerdir=/$d,upperdir=$work/ov/$d.upper,workdir=$work/ov/$d.work" "/$d"
done
# a copy of the sources, as a fresh clone has them
mkdir -p "$work/src"
if git -C "$src" rev-parse --git-dir > /dev/null 2>&1; then
        (cd "$src" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$work/src")
else
        (cd "$src" && tar --exclude='./build*' -cf - .) | tar -xf - -C "$work/src"
fi
"""

CHECK = r"""
set -euo pipefail
work=$1
# A fresh system bus and polkitd that see only what the installation put there.
mount -t tmpfs -o mode=0755 tmpfs /run/dbus
mount -t tmpfs -o mode=0755 tmpfs /run/bpfd
python3 - "$work/syslog" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
with open(sys.argv[1], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536) + b"\n")
PY
syslog_pid=$!
dbus-daemon --system --fork --nopidfile --print-pid=3 3>"$work/dbus.pid"
/usr/lib/polkit-1/polkitd --no-debug >"$work/polkitd.log" 2>&1 </dev/null &
polkit_pid=$!
cleanup() {
        pid=$(busctl --system status org.bpfd 2>/dev/null | sed -n 's/^PID=//p')
        [ -z "$pid" ] || kill "$pid"
        kill "$polkit_pid" "$(cat "$work/dbus.pid")" "$syslog_pid" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do
        busctl --system status org.freedesktop.PolicyKit1 >/dev/null 2>&1 && break
        sleep 0.1
done
busctl --system status org.bpfd >/dev/null 2>&1 && { echo "org.bpfd already running"; exit 1; }

echo "== status"
bpfctl status
pid=$(busctl --system status org.bpfd | sed -n 's/^PID=//p')
echo "== cmdline: $(tr '\0' ' ' < /proc/$pid/cmdline)"
echo "== exe: $(readlink /proc/$pid/exe)"
echo "== an unprivileged user's view"
runuser -u bpfd-bob -- bpfctl list
echo "== using it"
bash -euxo pipefail "$work/using-it.sh"
echo "== helper users"
getent passwd bpfd-image bpfd-inspect | cut -d: -f1,6,7
echo "== inspection zygote's user"
ps -o user:20=,comm= --ppid "$pid" | awk '$2 == "bpfd-inspect" { print $1 }' | sort -u
echo "== man"
for p in bpfctl.1 bpfd.8 org.bpfd.5 bpfd-registries.conf.5; do man -w "${p##*.}" "${p%.*}"; done
echo "== completion"
bash -c '. /usr/share/bash-completion/bash_completion; _completion_loader bpfctl; complete -p bpfctl'
echo "== verify"
systemd-analyze verify /lib/systemd/system/bpfd.service /lib/systemd/system/run-bpfd-fs.mount \
        /lib/systemd/system/bpfd-image.socket /lib/systemd/system/bpfd-image@.service 2>&1 | grep -i 'bpfd' || true
echo "== syslog"
cat "$work/syslog"
echo "== end"
"""


def readme_block(heading):
    """The first indented code block of README's section HEADING, as lines."""
    text = open(README).read()
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"(?:^    .*\n|^\n)+", section, re.M)
    block = next(b for b in blocks if b.strip())
    return [line[4:] for line in block.strip("\n").split("\n")]


def test_readme_install_and_using_it_verbatim():
    lib.run_once("installing from the sources (with a dbus-daemon and polkitd of its own)")
    install = readme_block("Installing")
    assert len(install) == 2, install
    # every package README names is one CI installs (from the same suite)
    bootstrap = open(os.path.join(lib.SRC_DIR, ".ci", "bootstrap")).read()
    backports = re.search(r"^backports=\((.*)\)", bootstrap, re.M).group(1).split()
    words = shlex.split(install[0])
    packages = [w for w in words[words.index("--no-install-recommends") + 1:]]
    assert len(packages) > 20, packages
    for pkg in packages:
        pkg, _, suite = pkg.partition("/")
        assert (pkg in backports) == (suite == "bookworm-backports"), f"{pkg}: not from the suite bootstrap takes"
        assert re.search(rf"(^|[\s(]){re.escape(pkg)}([\s)]|$)", bootstrap, re.M), f"{pkg} is not in .ci/bootstrap"
    using = readme_block("Using it")

    with tempfile.TemporaryDirectory(dir=os.environ.get("BPFD_TEST_TMPDIR")) as work:
        os.chmod(work, 0o755)
        os.mkdir(os.path.join(work, "ov"))
        with open(os.path.join(work, "install.sh"), "w") as f:
            f.write("\n".join(install) + "\n")
        with open(os.path.join(work, "using-it.sh"), "w") as f:
            f.write("\n".join(using) + "\n")
        script = (SETUP + f'\ncd "$work/src"\necho "== install"\nbash -euxo pipefail "$work/install.sh"\n'
                  + CHECK)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BPFD_")}
        env.update(BPFD_TEST_TMPDIR=work, DBUS_SYSTEM_BUS_ADDRESS="unix:path=/run/dbus/system_bus_socket",
                   PATH="/usr/sbin:/usr/bin:/sbin:/bin")
        p = subprocess.run(["unshare", "-m", "--propagation", "private", "bash", "-c", script, "install", work,
                            lib.SRC_DIR], capture_output=True, text=True, timeout=1500, env=env)
        out = p.stdout + p.stderr
        assert p.returncode == 0 and "== end" in p.stdout, out[-15000:]

    section = lambda name: p.stdout.split(f"== {name}", 1)[1].split("\n== ", 1)[0]
    # bus activation with only the installed files, as the activation file says
    assert "Version:" in section("status"), out[-5000:]
    cmdline = p.stdout.split("== cmdline: ", 1)[1].split("\n", 1)[0]
    assert cmdline.split()[:3] == ["/usr/sbin/bpfd", "--exit-idle-time=60", "--log-target=syslog"], cmdline
    assert section("exe").strip(": \n") == "/usr/sbin/bpfd"
    assert "ID" in section("an unprivileged user's view")
    # the log ends up in syslog, as the daemon's own
    assert re.search(r"bpfd\[\d+\]: bpfd [\d.]+ ready on the system bus", section("syslog")), section("syslog")
    # Using it: loads, confirmations, the maps that counted
    using_out = section("using it")
    assert "Unloaded program" in using_out and "Detached link" in using_out, using_out[-5000:]
    # the helpers' users, made by systemd-sysusers at install; the inspection zygote (started by the loads
    # above and kept) runs as its own, not as nobody
    assert section("helper users").split() == ["bpfd-image:/var/cache/bpfd/images:/usr/sbin/nologin",
                                               "bpfd-inspect:/:/usr/sbin/nologin"], section("helper users")
    assert section("inspection zygote's user").split() == ["bpfd-inspect"], section("inspection zygote's user")
    # man finds every page; bash-completion loads ours on demand
    pages = section("man").split()
    assert len(pages) == 4 and all(pg.startswith("/usr/share/man/") for pg in pages), section("man")
    assert "complete -F _bpfctl bpfctl" in section("completion"), section("completion")
    # systemd-analyze verify: nothing to say about our units (other units of the machine may warn)
    assert section("verify").strip() == "", section("verify")
