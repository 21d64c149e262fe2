/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The bpfd page: every BPF program of the machine, the chains on each network interface, a program's detail
 * with its links and maps, and the actions polkit allows the logged-in user. Everything goes through
 * org.bpfd on the system bus as that user (no superuser channel): polkit decides, as it does for bpfctl.
 * Managed programs, links and interfaces are D-Bus objects under bpfd's ObjectManager and follow its
 * InterfacesAdded/Removed and PropertiesChanged signals; the programs bpfd did not load (and run counts,
 * which have no signal) are read with ListPrograms when bpfd's objects change, or on Refresh. No polling. */
"use strict";

const BUS_NAME = "org.bpfd", MANAGER = "/org/bpfd/Manager", MANAGER_IFACE = "org.bpfd.Manager";
const MAP_PAGE = 25;

/* org.bpfd.Error names in words. */
const ERROR_WORDS = {
    PermissionDenied: "Not permitted",
    ProgramNotFound: "No such program",
    LinkNotFound: "No such link",
    InvalidObject: "Not a usable BPF object",
    ProgramNameNotFound: "No program of that name in the object",
    VerifierRejected: "The kernel's verifier rejected the program",
    AttachFailed: "The kernel refused the attachment",
    AttachTargetNotFound: "The attach target does not exist",
    FileNotFound: "No such file",
    NotSupported: "Not supported here",
    InvalidArgument: "Invalid input",
    MapNotFound: "No such map",
    KeyNotFound: "No such key",
    ImageNotFound: "No such image",
    RegistryUnreachable: "The registry cannot be reached",
    AuthenticationFailed: "The registry refused the credentials",
    DigestMismatch: "The image does not match its digest",
    NoSignature: "The image is not signed",
    UnknownSigner: "The image is signed by an unknown key",
    SignatureDigestMismatch: "The signature is not for this image",
    ImageNotCached: "The image is not cached",
    InvalidImage: "Not a bytecode image",
    Failed: "Failed",
};

const client = cockpit.dbus(BUS_NAME, { bus: "system" });
let manager = null, programs = null, links = null, interfaces = null;
let listed = new Map();        // id → ListPrograms dict (every program of the machine)
const unloaded = new Set();    // ids bpfd unloaded: the kernel may list them a moment longer, never as foreign
const users = new Map();       // uid → user name
let mapView = null;            // { program, map, info, entries, page, format }

/* ---- small helpers ---- */

function $(id) {
    return document.getElementById(id);
}

/* Elements are built, never parsed from strings: names and paths come from other users. */
function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (v === undefined || v === null || v === false) continue;
        if (k === "class") e.className = v;
        else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
        else if (k === "dataset") Object.assign(e.dataset, v);
        else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat())
        if (c !== undefined && c !== null && c !== false)
            e.append(c instanceof Node ? c : String(c));
    return e;
}

function unwrap(dict) {
    const out = {};
    for (const [k, v] of Object.entries(dict || {}))
        out[k] = v && typeof v === "object" && "v" in v && "t" in v ? v.v : v;
    return out;
}

function bytesOf(b64) {
    return cockpit.base64_decode(b64 || "", Uint8Array);
}

function ownerName(uid) {
    if (uid === undefined || uid === null) return "—";
    return users.get(uid) || String(uid);
}

function formatDuration(ns) {
    const n = Number(ns || 0);
    if (n === 0) return "0";
    if (n < 1e3) return n + " ns";
    if (n < 1e6) return (n / 1e3).toFixed(1) + " µs";
    if (n < 1e9) return (n / 1e6).toFixed(1) + " ms";
    return (n / 1e9).toFixed(2) + " s";
}

function formatTime(usec) {
    return usec ? new Date(Number(usec) / 1000).toLocaleString() : "—";
}

function label(text, cls) {
    return el("span", { class: "pf-c-label " + (cls || "") }, text);
}

/* ---- messages ---- */

function showError(ex, doing) {
    const name = (ex && ex.name) || "";
    const short = name.startsWith("org.bpfd.Error.") ? name.slice("org.bpfd.Error.".length) : "";
    $("alert-title").textContent = (doing ? doing + ": " : "") + (ERROR_WORDS[short] || "Failed");
    $("alert-name").textContent = name || (ex && ex.problem) || "";
    $("alert-message").textContent = (ex && (ex.message || cockpit.message(ex))) || String(ex);
    $("alert").hidden = false;
    $("notice").hidden = true;
}

function showNotice(text) {
    $("notice").textContent = text;
    $("notice").hidden = false;
    $("alert").hidden = true;
}

function clearMessages() {
    $("alert").hidden = true;
    $("notice").hidden = true;
}

function confirmAction(title, body, ok) {
    return new Promise(resolve => {
        $("dialog-title").textContent = title;
        $("dialog-body").textContent = body;
        $("dialog-ok").textContent = ok;
        $("dialog").hidden = false;
        const done = answer => {
            $("dialog").hidden = true;
            $("dialog-ok").onclick = $("dialog-cancel").onclick = null;
            resolve(answer);
        };
        $("dialog-ok").onclick = () => done(true);
        $("dialog-cancel").onclick = () => done(false);
    });
}

/* ---- reading ---- */

let listTimer = null;
function scheduleList() {
    /* Several signals of one change (program, links, interface) make one call. */
    if (listTimer === null)
        listTimer = window.setTimeout(() => { listTimer = null; listPrograms() }, 100);
}

function listPrograms() {
    return client.call(MANAGER, MANAGER_IFACE, "ListPrograms", [{ all: cockpit.variant("b", true) }],
                       { type: "a{sv}" })
            .then(([list]) => {
                listed = new Map(list.map(d => unwrap(d)).map(d => [d.id, d]));
                render();
            })
            .catch(ex => showError(ex, "Cannot list the programs"));
}

function readUsers() {
    return cockpit.file("/etc/passwd").read()
            .then(text => {
                for (const line of (text || "").split("\n")) {
                    const f = line.split(":");
                    if (f.length > 2) users.set(Number(f[2]), f[0]);
                }
            })
            .catch(() => {});
}

function readStats() {
    return client.call(MANAGER, "org.freedesktop.DBus.Properties", "Get", [MANAGER_IFACE, "StatsEnabled"],
                       { type: "ss" })
            .then(([v]) => renderStats(v.v))
            .catch(() => renderStats(null));
}

function managedPrograms() {
    return Object.values(programs || {}).filter(p => p.valid && p.data && p.data.Id !== undefined);
}

function programById(id) {
    return managedPrograms().find(p => p.data.Id === id) || null;
}

/* Where a program runs, for programs bpfd did not attach: the interface chains tell. */
function foreignAttachPoints() {
    const out = new Map();
    for (const i of Object.values(interfaces || {})) {
        const d = i.data || {};
        for (const [prop, hook] of [["XdpPrograms", "xdp"], ["TcIngress", "tc ingress"], ["TcEgress", "tc egress"]])
            for (const e of d[prop] || [])
                if (!e[2]) {
                    if (!out.has(e[0])) out.set(e[0], []);
                    out.get(e[0]).push(`${hook} ${d.Name}`);
                }
    }
    return out;
}

/* Every program of the machine as rows: bpfd's from its objects (live), the rest from ListPrograms. */
function programRows() {
    const rows = new Map();
    const foreignPoints = foreignAttachPoints();
    for (const p of managedPrograms()) {
        const d = p.data, l = listed.get(d.Id) || {};
        rows.set(d.Id, {
            id: d.Id, name: d.Name, kind: d.Kind || d.KernelType, owner: ownerName(d.OwnerUid),
            source: d.ImageReference || d.Source || "", attach: d.AttachPoints || [],
            runs: l.run_count ?? d.RunCount ?? 0, runTime: l.run_time_ns ?? d.RunTimeNs ?? 0, managed: true,
        });
    }
    for (const l of listed.values())
        if (!l.managed && !rows.has(l.id) && !unloaded.has(l.id))
            rows.set(l.id, {
                id: l.id, name: l.name, kind: l.kind || l.kernel_type, owner: "—", source: "",
                attach: foreignPoints.get(l.id) || [], runs: l.run_count || 0, runTime: l.run_time_ns || 0,
                managed: false,
            });
    return [...rows.values()].sort((a, b) => a.id - b.id);
}

/* ---- views ---- */

function renderStats(on) {
    $("stats-state").textContent = on === null ? "Run statistics: unknown" : "Run statistics: " + (on ? "on" : "off");
    $("stats-state").className = "pf-c-label " + (on ? "pf-m-green" : "");
    $("stats-toggle").hidden = on === null;
    $("stats-toggle").textContent = on ? "Turn statistics off" : "Turn statistics on";
    $("stats-toggle").dataset.enable = on ? "false" : "true";
}

function renderSummary() {
    const d = manager && manager.valid ? manager.data : null;
    const all = programRows();
    $("summary").textContent = d
        ? `bpfd ${d.Version} · ${d.ProgramCount} programs and ${d.LinkCount} links managed by bpfd · ` +
          `${all.length} BPF programs on this machine (${all.filter(r => !r.managed).length} loaded by others)`
        : "bpfd is not available on the system bus.";
}

function renderPrograms() {
    const tbody = $("programs-table").querySelector("tbody");
    const rows = programRows();
    tbody.replaceChildren(...rows.map(r => el("tr", { dataset: { programId: r.id }, class: r.managed ? "" : "foreign" },
        el("td", {}, el("a", { href: "#/program/" + r.id }, r.id)),
        el("td", { class: "name" }, r.name),
        el("td", {}, r.kind || "—"),
        el("td", {}, r.owner),
        el("td", { class: "source" }, r.source || "—"),
        el("td", {}, r.attach.length ? r.attach.join(", ") : "—"),
        el("td", { class: "num" }, String(r.runs)),
        el("td", { class: "num" }, formatDuration(r.runTime)),
        el("td", {}, r.managed ? label("bpfd", "pf-m-blue") : label("foreign", "pf-m-orange foreign-label")),
        el("td", {}, r.managed
            ? el("button", { class: "pf-c-button pf-m-secondary pf-m-small unload", type: "button",
                             onclick: () => unload(r.id, r.name) }, "Unload")
            : ""))));
    $("programs-empty").hidden = rows.length > 0;
}

const HOOKS = [["XdpPrograms", "XDP"], ["TcIngress", "TC ingress"], ["TcEgress", "TC egress"]];

function linkTarget(linkId) {
    const l = Object.values(links || {}).find(p => p.valid && p.data && p.data.Id === linkId);
    return l ? unwrap(l.data.Target) : {};
}

function renderInterfaces() {
    const list = Object.values(interfaces || {}).filter(i => i.valid && i.data && i.data.Name !== undefined)
            .map(i => i.data)
            .sort((a, b) => (a.NetnsInode - b.NetnsInode) || (a.Ifindex - b.Ifindex));
    const busy = list.filter(d => HOOKS.some(([p]) => (d[p] || []).length));
    const idle = list.filter(d => !busy.includes(d));
    const cards = busy.map(d => el("div", { class: "pf-c-card interface", dataset: { interface: d.Name } },
        el("h2", {}, d.Name, el("small", {}, ` ifindex ${d.Ifindex}` + (d.Netns ? ` · netns ${d.Netns}` : "") +
            (d.XdpMode ? ` · XDP ${d.XdpMode}` : ""))),
        HOOKS.filter(([p]) => (d[p] || []).length).map(([p, title]) => el("div", { class: "chain", dataset: { hook: p } },
            el("h3", {}, title + " (in run order)"),
            el("table", { class: "pf-c-table pf-m-compact" },
                el("thead", {}, el("tr", {}, ["#", "Program", "Name", "Priority", "Proceeds on", "Link", ""]
                        .map(h => el("th", {}, h)))),
                el("tbody", {}, d[p].map(([progId, name, managed, prio, linkId], pos) => {
                    const target = managed ? linkTarget(linkId) : {};
                    return el("tr", { dataset: { programId: progId }, class: managed ? "" : "foreign" },
                        el("td", {}, String(pos + 1)),
                        el("td", {}, el("a", { href: "#/program/" + progId }, progId)),
                        el("td", { class: "name" }, name),
                        el("td", {}, managed ? String(prio) : "—"),
                        el("td", {}, managed && target.proceed_on ? target.proceed_on.join(", ")
                            : managed && target.kind === "tcx" ? "TCX_NEXT (the program's return)" : "—"),
                        el("td", {}, managed && linkId ? String(linkId) : "—"),
                        el("td", {}, managed ? "" : label("foreign", "pf-m-orange foreign-label")));
                })))))));
    $("view-interfaces").replaceChildren(
        ...cards,
        busy.length ? "" : el("p", { class: "empty" }, "No interface has BPF programs on its XDP or TC hooks."),
        idle.length ? el("p", { class: "idle" }, "Without programs: " + idle.map(d => d.Name).join(", ")) : "");
}

function row(name, value) {
    return [el("dt", {}, name), el("dd", {}, value === "" || value === undefined ? "—" : value)];
}

function renderProgram(id) {
    const proxy = programById(id), l = listed.get(id);
    const view = $("view-program");
    if (!proxy && !l) {
        view.replaceChildren(el("div", { class: "pf-c-card" }, el("p", { class: "empty" },
            `Program ${id} is not loaded.`), el("a", { href: "#/" }, "All programs")));
        return;
    }
    if (!proxy) {
        view.replaceChildren(el("div", { class: "pf-c-card" },
            el("h2", {}, `${l.name} `, label("foreign", "pf-m-orange foreign-label")),
            el("p", { class: "help" }, "bpfd did not load this program: this is what the kernel says about it."),
            el("dl", { class: "pf-c-description-list" },
                row("ID", l.id), row("Name", l.name), row("Kind", l.kind), row("Kernel type", l.kernel_type),
                row("Tag", l.tag), row("Loaded", formatTime(l.load_time)),
                row("Attached to", (foreignAttachPoints().get(id) || []).join(", ")),
                row("Map ids", (l.map_ids || []).join(", ")), row("Runs", String(l.run_count || 0)),
                row("Run time", formatDuration(l.run_time_ns)))));
        return;
    }
    const d = proxy.data, stats = listed.get(id) || {};
    const progLinks = Object.values(links || {}).filter(p => p.valid && p.data && p.data.ProgramId === id)
            .map(p => p.data).sort((a, b) => a.Id - b.Id);
    const metadata = Object.entries(d.Metadata || {}).map(([k, v]) => `${k}=${v}`).join(", ");
    const globals = (d.GlobalData || []).join(", ");
    view.replaceChildren(
        el("div", { class: "pf-c-card" },
            el("div", { class: "title-row" },
                el("h2", {}, `${d.Name} `, label("bpfd", "pf-m-blue")),
                el("button", { class: "pf-c-button pf-m-danger", id: "unload", type: "button",
                               onclick: () => unload(d.Id, d.Name) }, "Unload")),
            el("dl", { class: "pf-c-description-list" },
                row("ID", d.Id), row("Kind", d.Kind), row("Kernel type", d.KernelType), row("Section", d.Section),
                row("Tag", d.Tag), row("Owner", ownerName(d.OwnerUid)), row("Loaded", formatTime(d.LoadTime)),
                row("Source", d.Source), row("Image", d.ImageReference ? `${d.ImageReference} (${d.ImageDigest})` : ""),
                row("Load group", d.LoadGroup), row("Maps of group", d.MapGroup), row("Pinned at", d.PinPath),
                row("Metadata", metadata), row("Global data set", globals),
                row("Runs", String(stats.run_count ?? d.RunCount ?? 0)),
                row("Run time", formatDuration(stats.run_time_ns ?? d.RunTimeNs)))),
        el("div", { class: "pf-c-card" },
            el("h3", {}, "Links"),
            progLinks.length ? el("table", { class: "pf-c-table pf-m-compact", id: "links-table" },
                el("thead", {}, el("tr", {}, ["ID", "Kind", "Attached to", "Priority", "Proceeds on", "Attached", ""]
                        .map(h => el("th", {}, h)))),
                el("tbody", {}, progLinks.map(k => {
                    const t = unwrap(k.Target);
                    return el("tr", { dataset: { linkId: k.Id } },
                        el("td", {}, String(k.Id)), el("td", {}, k.Kind), el("td", {}, k.AttachPoint),
                        el("td", {}, t.priority !== undefined ? String(t.priority) : "—"),
                        el("td", {}, t.proceed_on ? t.proceed_on.join(", ") : "—"),
                        el("td", {}, formatTime(k.AttachTime)),
                        el("td", {}, el("button", { class: "pf-c-button pf-m-secondary pf-m-small detach", type: "button",
                                                    onclick: () => detach(k.Id, k.AttachPoint) }, "Detach")));
                }))) : el("p", { class: "empty" }, "Not attached.")),
        el("div", { class: "pf-c-card" },
            el("h3", {}, "Maps"),
            (d.Maps || []).length ? el("table", { class: "pf-c-table pf-m-compact", id: "maps-table" },
                el("thead", {}, el("tr", {}, ["ID", "Name", ""].map(h => el("th", {}, h)))),
                el("tbody", {}, d.Maps.map(([mapId, name]) => el("tr", { dataset: { map: name } },
                    el("td", {}, String(mapId)), el("td", { class: "name" }, name),
                    el("td", {}, el("button", { class: "pf-c-button pf-m-secondary pf-m-small show-map", type: "button",
                                                onclick: () => openMap(proxy, name) }, "Show entries"))))))
                : el("p", { class: "empty" }, "No maps."),
            el("div", { id: "map-entries" })));
    if (mapView && mapView.program === id)
        renderMap();
}

function openMap(proxy, name) {
    const path = proxy.path, id = proxy.data.Id;
    clearMessages();
    Promise.all([
        client.call(path, "org.bpfd.Program", "MapInfo", [name], { type: "s" }),
        client.call(path, "org.bpfd.Program", "MapDump", [name], { type: "s" }),
    ]).then(([[info], [entries]]) => {
        const i = unwrap(info);
        i.btf = bytesOf(i.btf);
        mapView = { program: id, map: name, info: i, entries, page: 0, format: bpfdBtf.btfMapFormatter(i) };
        renderMap();
    }).catch(ex => showError(ex, `Cannot read map ${name}`));
}

function renderMap() {
    const box = $("map-entries");
    if (!box || !mapView) return;
    const { info, entries, page, format } = mapView;
    const pages = Math.max(1, Math.ceil(entries.length / MAP_PAGE));
    const shown = entries.slice(page * MAP_PAGE, (page + 1) * MAP_PAGE);
    const go = p => { mapView.page = Math.min(Math.max(p, 0), pages - 1); renderMap() };
    box.replaceChildren(
        el("h4", {}, `${mapView.map}: ${info.type}, ${entries.length} of at most ${info.max_entries} entries` +
            (format.hasBtf ? "" : " (no BTF: bytes in hex)")),
        el("table", { class: "pf-c-table pf-m-compact", id: "map-table" },
            el("thead", {}, el("tr", {}, el("th", {}, "Key"), el("th", {}, "Value"))),
            el("tbody", {}, shown.map(([k, v]) => el("tr", {},
                el("td", { class: "mono" }, format.key(bytesOf(k))),
                el("td", { class: "mono" }, format.value(bytesOf(v))))))),
        el("div", { class: "pf-c-pagination" },
            el("button", { class: "pf-c-button pf-m-plain", type: "button", id: "map-prev", disabled: page === 0,
                           onclick: () => go(page - 1) }, "‹ Previous"),
            el("span", {}, ` page ${page + 1} of ${pages} `),
            el("button", { class: "pf-c-button pf-m-plain", type: "button", id: "map-next",
                           disabled: page >= pages - 1, onclick: () => go(page + 1) }, "Next ›")));
}

function render() {
    const path = cockpit.location.path;
    const view = path[0] === "program" ? "program" : path[0] === "interfaces" ? "interfaces"
        : path[0] === "load" ? "load" : "programs";
    for (const v of ["programs", "interfaces", "program", "load"])
        $("view-" + v).hidden = v !== view;
    for (const t of ["programs", "interfaces", "load"])
        $("tab-" + t).classList.toggle("pf-m-current", t === view || (t === "programs" && view === "program"));
    renderSummary();
    if (view === "programs") renderPrograms();
    else if (view === "interfaces") renderInterfaces();
    else if (view === "program") renderProgram(Number(path[1]));
    document.body.dataset.view = view;
}

/* ---- actions (polkit decides in bpfd; errors come back as org.bpfd.Error.*) ---- */

function unload(id, name) {
    return confirmAction(`Unload program ${id}?`, `${name} is detached everywhere and unloaded.`, "Unload")
            .then(yes => yes && client.call(MANAGER, MANAGER_IFACE, "Unload", [id], { type: "u" })
                    .then(() => {
                        showNotice(`Program ${id} (${name}) was unloaded.`);
                        if (cockpit.location.path[0] === "program") cockpit.location.go("/");
                    })
                    .catch(ex => showError(ex, `Cannot unload program ${id}`)));
}

function detach(linkId, where) {
    return confirmAction(`Detach link ${linkId}?`, `The program stops running at ${where}; it stays loaded.`, "Detach")
            .then(yes => yes && client.call(MANAGER, MANAGER_IFACE, "Detach", [linkId], { type: "u" })
                    .then(() => showNotice(`Link ${linkId} was detached.`))
                    .catch(ex => showError(ex, `Cannot detach link ${linkId}`)));
}

function loadOptions() {
    const options = {};
    const names = $("load-programs").value.split(",").map(s => s.trim()).filter(Boolean);
    if (names.length) options.programs = cockpit.variant("as", names);
    const kind = $("attach-kind").value;
    if (kind) {
        const t = { kind: cockpit.variant("s", kind) };
        if (names.length) t.program = cockpit.variant("s", names[0]);
        /* An empty tracepoint leaves it to the ELF section (SEC("tracepoint/category/name")). */
        if (kind === "tracepoint") {
            if ($("attach-tracepoint").value.trim())
                t.tracepoint = cockpit.variant("s", $("attach-tracepoint").value.trim());
        } else {
            t.interface = cockpit.variant("s", $("attach-interface").value.trim());
            if (kind !== "xdp") t.direction = cockpit.variant("s", $("attach-direction").value);
            if ($("attach-priority").value) t.priority = cockpit.variant("i", Number($("attach-priority").value));
        }
        options.attach = cockpit.variant("aa{sv}", [t]);
    }
    return options;
}

function loaded([progs]) {
    const ids = progs.map(p => Number(p.split("/").pop()));
    showNotice(`Loaded program${ids.length > 1 ? "s" : ""} ${ids.join(", ")}.`);
    cockpit.location.go(["program", String(ids[0])]);
}

/* The uploaded object is written to a directory of the user's own and loaded by path: bpfd opens it as the
 * user, and the directory goes away afterwards. */
function loadUpload(file) {
    return file.arrayBuffer().then(buffer => cockpit.spawn(["mktemp", "-d", "--tmpdir", "bpfd-upload.XXXXXX"])
            .then(out => {
                const dir = out.trim(), path = dir + "/" + (file.name.replace(/[^A-Za-z0-9._-]/g, "_") || "object.o");
                const cleanup = () => cockpit.spawn(["rm", "-rf", "--", dir]).catch(() => {});
                return cockpit.file(path, { binary: true }).replace(new Uint8Array(buffer))
                        .then(() => client.call(MANAGER, MANAGER_IFACE, "LoadFromPath", [path, loadOptions()],
                                                { type: "sa{sv}" }))
                        .finally(cleanup);
            }));
}

function submitLoad(event) {
    event.preventDefault();
    clearMessages();
    const fromImage = document.querySelector("input[name=source]:checked").value === "image";
    let call;
    if (fromImage) {
        const ref = $("load-image").value.trim();
        const options = loadOptions();
        options.pull_policy = cockpit.variant("s", $("load-pull").value);
        call = client.call(MANAGER, MANAGER_IFACE, "LoadFromImage", [ref, options], { type: "sa{sv}" });
    } else {
        const file = $("load-file").files[0];
        if (!file) return showError({ message: "Choose an object file first." }, "Cannot load");
        call = loadUpload(file);
    }
    $("load-submit").disabled = true;
    return call.then(loaded).catch(ex => showError(ex, "Cannot load"))
            .finally(() => { $("load-submit").disabled = false });
}

function toggleStats() {
    const enable = $("stats-toggle").dataset.enable === "true";
    clearMessages();
    return client.call(MANAGER, MANAGER_IFACE, "SetStatsEnabled", [enable], { type: "b" })
            .then(() => { showNotice(`Run statistics are ${enable ? "on" : "off"}.`); return readStats() })
            .then(listPrograms)
            .catch(ex => showError(ex, `Cannot turn run statistics ${enable ? "on" : "off"}`));
}

/* ---- start ---- */

function watch(proxies, onChange) {
    for (const ev of ["added", "changed", "removed"])
        proxies.addEventListener(ev, onChange);
}

document.addEventListener("DOMContentLoaded", () => {
    $("alert-close").addEventListener("click", clearMessages);
    $("refresh").addEventListener("click", () => { readStats(); listPrograms() });
    $("stats-toggle").addEventListener("click", toggleStats);
    $("load-form").addEventListener("submit", submitLoad);
    for (const r of document.querySelectorAll("input[name=source]"))
        r.addEventListener("change", () => {
            const image = document.querySelector("input[name=source]:checked").value === "image";
            $("group-image").hidden = !image;
            $("group-file").hidden = image;
        });
    $("attach-kind").addEventListener("change", () => {
        for (const f of document.querySelectorAll(".attach-field"))
            f.hidden = !f.dataset.kinds.split(" ").includes($("attach-kind").value);
    });
    cockpit.addEventListener("locationchanged", () => { if (cockpit.location.path[0] !== "program") mapView = null; render() });

    manager = client.proxy(MANAGER_IFACE, MANAGER);
    programs = client.proxies("org.bpfd.Program", MANAGER);
    links = client.proxies("org.bpfd.Link", MANAGER);
    interfaces = client.proxies("org.bpfd.Interface", MANAGER);
    manager.addEventListener("changed", renderSummary);
    programs.addEventListener("removed", (ev, proxy) => {
        /* Kernel ids are not reused before they wrap around at 2^31. */
        unloaded.add(Number(proxy.path.split("/").pop()));
        listed.delete(Number(proxy.path.split("/").pop()));
    });
    watch(programs, () => { render(); scheduleList() });
    watch(links, render);
    watch(interfaces, () => { render(); scheduleList() });
    client.addEventListener("close", (ev, options) => showError(options, "Lost the connection to the bus"));

    Promise.all([readUsers(), manager.wait(), programs.wait(), links.wait(), interfaces.wait()])
            .then(() => Promise.all([listPrograms(), readStats()]))
            .catch(ex => showError(ex, "Cannot reach bpfd"))
            .finally(() => { render(); document.body.dataset.ready = "true" });
});
