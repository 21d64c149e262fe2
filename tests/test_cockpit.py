# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Cockpit page (cockpit/), installed from the build into a staged prefix, served by a real cockpit-ws with a
local session of a test user (or root), in a real headless chromium: the programs of the machine (bpfd's and
others'), interface chains in run order, a program's maps, and actions decided by polkit for that user.
Screenshots of every view go to build/test-screenshots/."""

import json
import os
import re

import lib
from browser import Browser, Cockpit, stage_install
from lib import load, unload

_stage = None


def share():
    global _stage
    if _stage is None:
        _stage = stage_install()
    return _stage[1]


_port = [9190]


def cockpit(user):
    _port[0] += 1
    return Cockpit(user, share(), _port[0])


def rows(b, table="#programs-table"):
    return b.eval(f"[...document.querySelectorAll('{table} tbody tr')].map(r => "
                  "({id: Number(r.dataset.programId), foreign: r.classList.contains('foreign'), "
                  "cells: [...r.cells].map(c => c.innerText.trim())}))")


def row_of(b, prog_id):
    return next((r for r in rows(b) if r["id"] == prog_id), None)


def has_row(prog_id):
    return f"!!document.querySelector('#programs-table tr[data-program-id=\"{prog_id}\"]')"


def bpftool_foreign(tag):
    pin = f"/sys/fs/bpf/cockpit-{tag}-{os.getpid()}"
    lib.run(["bpftool", "prog", "load", lib.bpf_obj("tracepoint_counter"), pin])
    info = json.loads(lib.run(["bpftool", "-j", "prog", "show", "pinned", pin]).stdout)
    return info["id"], pin


def test_page_is_installed():
    path = os.path.join(share(), "cockpit", "bpfd")
    for f in ("manifest.json", "index.html", "bpfd.js", "btf.js", "bpfd.css"):
        assert os.path.exists(os.path.join(path, f)), f
    manifest = json.load(open(os.path.join(path, "manifest.json")))
    assert manifest["menu"]["index"]["label"] == "BPF programs"
    # Nothing is fetched from the network: every script and style is the page's own or Cockpit's.
    html = open(os.path.join(path, "index.html")).read()
    assert not re.search(r'(src|href)="(https?:)?//', html), html


def test_programs_of_the_machine_live():
    """Read-only user (bob, whom polkit allows nothing): the table shows bpfd's programs and a foreign one, and
    follows loads and unloads without a reload."""
    lib.ensure_daemon()
    obj = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    mine = lib.bpfctl("--json", "load", obj, "-p", "count_getpid", "tracepoint", "--tracepoint",
                      "syscalls/sys_enter_getpid", user=lib.ALICE).json["programs"][0]
    foreign_id, pin = bpftool_foreign("table")
    later = None
    try:
        with cockpit(lib.BOB) as c, Browser() as b:
            b.go(c.url("/"))
            b.wait_js(has_row(mine["id"]) + " && " + has_row(foreign_id), what="both programs in the table")
            r = row_of(b, mine["id"])
            assert r["cells"][1:6] == ["count_getpid", "tracepoint", lib.ALICE, "fd:" + obj,
                                       "tracepoint syscalls/sys_enter_getpid"], r
            assert r["cells"][8] == "bpfd" and not r["foreign"], r
            f = row_of(b, foreign_id)
            assert f["foreign"] and f["cells"][8] == "foreign" and f["cells"][9] == "", f
            assert "loaded by others" in b.text("#summary")
            # Everything came from this Cockpit: no network fetches.
            assert b.requests and all(re.match(rf"(http|ws)://127\.0\.0\.1:{c.port}/", u) or u.startswith("data:")
                                      for u in b.requests), b.requests
            b.screenshot("programs")

            # Live: a load, an attach and an unload by someone else show up without a reload.
            later = load("tracepoint_counter", "-p", "count_getppid")[0][0]
            b.wait_js(has_row(later["id"]), what="the new program")
            assert row_of(b, later["id"])["cells"][5] == "—"
            lib.bpfctl("attach", str(later["id"]), "tracepoint", "--tracepoint", "syscalls/sys_enter_getppid")
            cell = f"document.querySelector('#programs-table tr[data-program-id=\"{later['id']}\"]').cells[5].innerText"
            b.wait_js(f"{cell} === 'tracepoint syscalls/sys_enter_getppid'", what="the attach point (PropertiesChanged)")
            unload(later["id"])
            b.wait_js("!" + has_row(later["id"]), what="the unloaded program to go")
            later = None
    finally:
        unload(mine["id"], *([later["id"]] if later else []))
        os.unlink(pin)


def test_interface_chains_in_run_order():
    lib.ensure_daemon()
    name = f"ck{os.getpid() % 100000}"
    lib.run(["ip", "link", "add", name + "a", "type", "veth", "peer", "name", name + "b"])
    progs, _ = load("tcx_counter", "-p", "tcx_count_a", "-p", "tcx_count_b")
    by_name = {p["name"]: p["id"] for p in progs}
    xdp_prog = load("xdp_pass", "xdp", "--iface", name + "b", "--proceed-on", "pass,drop")[0][0]
    by_name["xdp"] = xdp_prog["id"]
    try:
        # A program bpfd did not attach, on the same interface (bpfd looks at the hooks when it changes one).
        lib.run(["ip", "link", "set", "dev", name + "a", "xdpgeneric", "obj", lib.bpf_obj("xdp_pass"), "sec", "xdp"])
        lib.bpfctl("attach", str(by_name["tcx_count_a"]), "tcx", "--iface", name + "a", "--direction", "ingress",
                   "--priority", "20")
        lib.bpfctl("attach", str(by_name["tcx_count_b"]), "tcx", "--iface", name + "a", "--direction", "ingress",
                   "--priority", "10")
        with cockpit(lib.BOB) as c, Browser() as b:
            b.go(c.url("/interfaces"))
            sel = f"[data-interface=\"{name}a\"] [data-hook=TcIngress]"
            b.wait_js(f"document.querySelectorAll('{sel} tbody tr').length === 2", what="the ingress chain")
            chain = rows(b, sel)
            assert [r["id"] for r in chain] == [by_name["tcx_count_b"], by_name["tcx_count_a"]], chain
            assert [r["cells"][3] for r in chain] == ["10", "20"], chain
            xdp_sel = f"[data-interface=\"{name}a\"] [data-hook=XdpPrograms]"
            b.wait_js(f"document.querySelectorAll('{xdp_sel} tbody tr').length === 1", what="the foreign XDP program")
            xdp = rows(b, xdp_sel)[0]
            assert xdp["foreign"] and xdp["cells"][6] == "foreign", xdp
            assert [r["cells"][4] for r in chain] == ["TCX_NEXT (the program's return)"] * 2, chain
            # bpfd's XDP program on the peer, with its proceed-on actions.
            peer = f"[data-interface=\"{name}b\"] [data-hook=XdpPrograms]"
            b.wait_js(f"document.querySelectorAll('{peer} tbody tr').length === 1", what="bpfd's XDP program")
            mine = rows(b, peer)[0]
            assert mine["id"] == xdp_prog["id"] and not mine["foreign"], mine
            assert mine["cells"][4] == "pass, drop" and mine["cells"][3] == "50", mine
            b.screenshot("interfaces")
            # The foreign XDP program is in the programs table too, attached to the interface.
            b.go(c.url("/"))
            b.wait_js(has_row(xdp["id"]))
            assert f"xdp {name}a" in row_of(b, xdp["id"])["cells"][5]
    finally:
        lib.run(["ip", "link", "del", name + "a"], check=False)
        unload(*by_name.values())


def test_program_detail_and_map_entries():
    """The owner (alice) reads her program's map, formatted by its BTF; bob, who may only read, is refused the
    map of someone else's program (org.bpfd.map-others) and sees why."""
    lib.ensure_daemon()
    obj = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    prog = lib.bpfctl("--json", "load", obj, "-p", "count_getpid", "tracepoint", "--tracepoint",
                      "syscalls/sys_enter_getpid", user=lib.ALICE).json["programs"][0]
    pid = prog["id"]
    try:
        lib.run(["python3", "-c", "import os\nfor _ in range(5): os.getpid()"])
        with cockpit(lib.ALICE) as c, Browser() as b:
            b.go(c.url(f"/program/{pid}"))
            b.wait_js("!!document.querySelector('#maps-table')", what="the program's maps")
            assert "tracepoint syscalls/sys_enter_getpid" in b.text("#links-table")
            b.click("#maps-table tr[data-map=counter] .show-map")
            b.wait_js("document.querySelectorAll('#map-table tbody tr').length === 2", what="the counter entries")
            entries = b.eval("[...document.querySelectorAll('#map-table tbody tr')].map(r => [...r.cells].map(c => c.innerText))")
            # Formatted by the map's BTF: __u32 keys and __u64 values in decimal.
            assert [e[0] for e in entries] == ["0", "1"], entries
            assert int(entries[0][1]) >= 5, entries
            assert "no BTF" not in b.text("#map-entries h4")
            b.screenshot("program")
            # Global data by its variables' names (the BTF's DATASEC), paged view replaced.
            b.click("#maps-table tr[data-map$=rodata] .show-map")
            b.wait_js("document.querySelector('#map-entries h4').innerText.includes('rodata')", what="the .rodata map")
            rodata = b.eval("[...document.querySelectorAll('#map-table tbody tr')].map(r => [...r.cells].map(c => c.innerText))")
            assert rodata == [["0", "{target_tgid: 0}"]], rodata
            # Detach through the page: the program stays, without its link.
            b.click("#links-table .detach")
            b.click("#dialog-ok")
            b.wait_js("!document.querySelector('#links-table')", what="the link to go")
            assert "was detached" in b.text("#notice")
            assert lib.bpfctl("--json", "get", str(pid)).json["links"] == []
            b.go(c.url("/load"))
            b.screenshot("load")
        with cockpit(lib.BOB) as c, Browser() as b:
            b.go(c.url(f"/program/{pid}"))
            b.wait_js("!!document.querySelector('#maps-table')", what="the program's maps")
            b.click("#maps-table tr[data-map=counter] .show-map")
            b.wait_js("!document.querySelector('#alert').hidden", what="the refusal")
            assert b.text("#alert-name") == "org.bpfd.Error.PermissionDenied"
            assert "org.bpfd.map-others" in b.text("#alert-message")
    finally:
        unload(pid)


def test_unload_refused_then_allowed():
    """bob (polkit allows nothing) sees the refusal in words and its name; carol (org.bpfd.manage-others)
    unloads the same program of alice's."""
    lib.ensure_daemon()
    obj = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    prog = lib.bpfctl("--json", "load", obj, "-p", "count_getpid", user=lib.ALICE).json["programs"][0]
    try:
        with cockpit(lib.BOB) as c, Browser() as b:
            b.go(c.url(f"/program/{prog['id']}"))
            b.wait_js("!!document.querySelector('#unload')")
            b.click("#unload")
            b.wait_js("!document.querySelector('#dialog').hidden")
            b.click("#dialog-ok")
            b.wait_js("!document.querySelector('#alert').hidden", what="the refusal")
            assert b.text("#alert-name") == "org.bpfd.Error.PermissionDenied"
            assert "Not permitted" in b.text("#alert-title")
            assert "org.bpfd.manage-others" in b.text("#alert-message")
            b.screenshot("unload-refused")
        assert prog["id"] in {p["id"] for p in lib.bpfctl("--json", "list").json}
        with cockpit(lib.CAROL) as c, Browser() as b:
            b.go(c.url("/"))
            b.wait_js(has_row(prog["id"]))
            b.click(f"#programs-table tr[data-program-id=\"{prog['id']}\"] .unload")
            b.click("#dialog-ok")
            b.wait_js("!" + has_row(prog["id"]), what="the program to leave the table")
            assert "was unloaded" in b.text("#notice")
        assert prog["id"] not in {p["id"] for p in lib.bpfctl("--json", "list").json}
    finally:
        unload(prog["id"])


def test_load_by_upload():
    """alice (group bpfd: tracepoint programs) uploads an object file and attaches it; she owns the result."""
    lib.ensure_daemon()
    obj = lib.world_readable_copy(lib.bpf_obj("tracepoint_counter"))
    loaded = None
    with cockpit(lib.ALICE) as c, Browser() as b:
        b.go(c.url("/load"))
        b.set_file("#load-file", obj)
        b.eval("document.querySelector('#load-programs').value = 'count_getppid'")
        b.eval("(() => { const s = document.querySelector('#attach-kind'); s.value = 'tracepoint'; "
               "s.dispatchEvent(new Event('change')); })()")
        b.eval("document.querySelector('#attach-tracepoint').value = 'syscalls/sys_enter_getppid'")
        b.click("#load-submit")
        b.wait_js("location.hash.startsWith('#/program/') && !!document.querySelector('#links-table')",
                  what="the loaded program's page")
        loaded = int(b.eval("location.hash.split('/').pop()"))
        assert "Loaded program" in b.text("#notice")
        try:
            mine = {p["id"]: p for p in lib.bpfctl("--json", "list").json}[loaded]
            assert mine["owner_uid"] == lib.uid_of(lib.ALICE) and mine["name"] == "count_getppid", mine
            assert mine["attach_points"] == ["tracepoint syscalls/sys_enter_getppid"], mine
            # A kind polkit does not allow her: the refusal, in words.
            b.go(c.url("/load"))
            b.set_file("#load-file", lib.world_readable_copy(lib.bpf_obj("xdp_pass")))
            b.eval("document.querySelector('#load-programs').value = ''")
            b.eval("(() => { const s = document.querySelector('#attach-kind'); s.value = ''; "
                   "s.dispatchEvent(new Event('change')); })()")
            b.click("#load-submit")
            b.wait_js("!document.querySelector('#alert').hidden", what="the refusal")
            assert b.text("#alert-name") == "org.bpfd.Error.PermissionDenied", b.text("#alert")
        finally:
            unload(loaded)


def test_as_root_with_run_statistics():
    """As root: everything is allowed; the run statistics switch goes through the page."""
    lib.ensure_daemon()
    progs, _ = load("tracepoint_counter", "-p", "count_getpid", "tracepoint", "--tracepoint",
                    "syscalls/sys_enter_getpid")
    try:
        with cockpit("root") as c, Browser() as b:
            b.go(c.url("/"))
            b.wait_js(has_row(progs[0]["id"]))
            b.wait_js("!document.querySelector('#stats-toggle').hidden")
            if "off" in b.text("#stats-state"):
                b.click("#stats-toggle")
                b.wait_js("document.querySelector('#stats-state').innerText.endsWith('on')", what="statistics on")
            lib.run(["python3", "-c", "import os\nfor _ in range(50): os.getpid()"])
            b.click("#refresh")
            b.wait_js(f"Number(document.querySelector('#programs-table tr[data-program-id=\"{progs[0]['id']}\"]')"
                      ".cells[6].innerText) >= 50", what="run counts")
            b.screenshot("programs-root-stats")
            b.click("#stats-toggle")
            b.wait_js("!!document.querySelector('#notice') && document.querySelector('#notice').innerText.includes('off')")
    finally:
        lib.busctl("call", lib.BUS_NAME, lib.MANAGER_PATH, lib.MANAGER_IFACE, "SetStatsEnabled", "b", "false",
                   check=False)
        unload(progs[0]["id"])


def test_load_image_by_reference():
    """alice loads a signed image from a registry on 127.0.0.1 (allowed to group bpfd for tracepoints) by its
    reference; a missing tag shows ImageNotFound in words."""
    from test_image import new_key, push, registry, scratch, sign, write_config
    from test_image_load import daemon_with_images

    with registry() as reg:
        digest = push(reg, "v1")
        key = new_key()
        config = write_config(reg, require_signature=True, keys=[sign(reg, digest, key)])
        with daemon_with_images(config, scratch()), cockpit(lib.ALICE) as c, Browser() as b:
            b.go(c.url("/load"))
            b.click("input[name=source][value=image]")
            b.eval(f"document.querySelector('#load-image').value = {json.dumps(reg.ref('v1'))}")
            b.eval("document.querySelector('#load-programs').value = 'count_getpid'")
            b.eval("(() => { const s = document.querySelector('#attach-kind'); s.value = 'tracepoint'; "
                   "s.dispatchEvent(new Event('change')); })()")
            b.click("#load-submit")
            b.wait_js("location.hash.startsWith('#/program/') && !!document.querySelector('#links-table')",
                      timeout=60, what="the loaded program's page")
            loaded = int(b.eval("location.hash.split('/').pop()"))
            try:
                assert f"{reg.ref('v1')} ({digest})" in b.text("#view-program"), b.text("#view-program")
                assert "tracepoint syscalls/sys_enter_getpid" in b.text("#links-table")
                prog = {p["id"]: p for p in lib.bpfctl("--json", "list").json}[loaded]
                assert prog["owner_uid"] == lib.uid_of(lib.ALICE) and prog["image_digest"] == digest, prog
                b.go(c.url("/load"))
                b.eval(f"document.querySelector('#load-image').value = {json.dumps(reg.ref('nosuchtag'))}")
                b.click("#load-submit")
                b.wait_js("!document.querySelector('#alert').hidden", timeout=60, what="the error")
                assert b.text("#alert-name") == "org.bpfd.Error.ImageNotFound", b.text("#alert")
                assert "No such image" in b.text("#alert-title")
            finally:
                unload(loaded)


def test_map_entries_in_pages():
    """A hash map of 30 entries is shown 25 at a time; every key appears once over the two pages."""
    lib.ensure_daemon()
    obj = lib.world_readable_copy(lib.bpf_obj("hash_map"))
    prog = lib.bpfctl("--json", "load", obj, user=lib.ALICE).json["programs"][0]
    try:
        for k in range(30):
            lib.bpfctl("map", "set", str(prog["id"]), "entries", f"u32:{k + 100}", f"u64:{k}", user=lib.ALICE)
        with cockpit(lib.ALICE) as c, Browser() as b:
            b.go(c.url(f"/program/{prog['id']}"))
            b.wait_js("!!document.querySelector('#maps-table')")
            b.click("#maps-table tr[data-map=entries] .show-map")
            keys = "[...document.querySelectorAll('#map-table tbody tr')].map(r => r.cells[0].innerText)"
            b.wait_js(f"{keys}.length === 25", what="the first page")
            first = b.eval(keys)
            assert "page 1 of 2" in b.text("#map-entries .pf-c-pagination")
            assert "30 of at most 16384 entries" in b.text("#map-entries h4")
            b.click("#map-next")
            b.wait_js(f"{keys}.length === 5", what="the second page")
            second = b.eval(keys)
            assert sorted(int(k) for k in first + second) == list(range(100, 130)), (first, second)
            assert b.eval("document.querySelector('#map-next').disabled")
    finally:
        unload(prog["id"])
