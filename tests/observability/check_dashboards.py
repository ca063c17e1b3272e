#!/usr/bin/env python3
"""Static checks of grafana/dashboards/*.json and grafana/provisioning/ (Python 3 stdlib only).

    check_dashboards.py SOURCE_DIR

Every dashboard: valid JSON, fixed uid, schemaVersion, unique panel ids, datasource by the
provisioned uid (or a variable), a unit on every panel that queries, the state colours on every
panel that shows link states, no member id or name from the shipped configs, rate()/increase()
over counters only, every $variable defined, every recording rule it reads defined.
Exits 1 with one line per problem.
"""
import json
import pathlib
import re
import sys

DATASOURCE_UID = "linkwatch-prometheus"
SCHEMA_VERSION = 39
EXPECTED_UIDS = {
    "link-lights.json": "linkwatch-link-lights",
    "member-detail.json": "linkwatch-member-detail",
    "monitor-health.json": "linkwatch-monitor-health",
}
# State colours (grafana/README.md): code of member_session:linkwatch_link_state_code:max,
# state name, colour.
STATES = [(0, "offhours", "#8E8E8E"), (1, "maintenance", "#5794F2"), (2, "up", "#73BF69"),
          (3, "degraded", "#FF9830"), (4, "down", "#F2495C")]
GRAFANA_VARIABLES = {"__rate_interval", "__interval", "__interval_ms", "__range", "__range_s",
                     "__range_ms", "__from", "__to", "__dashboard", "__org", "__user",
                     "__url_time_range", "__field", "__value", "__data", "__series", "__name"}
COUNTER_SUFFIXES = ("_total", "_bucket", "_count", "_sum")
RANGE_FUNCTIONS = ("rate", "irate", "increase")

problems = []


def problem(where, what):
    problems.append(f"{where}: {what}")


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def panel_exprs(panel):
    return [t.get("expr", "") for t in panel.get("targets", []) if t.get("expr")]


def check_datasource(where, ds):
    if ds is None:
        return
    if isinstance(ds, str):
        problem(where, f"datasource given by name {ds!r}, not by uid")
        return
    uid = ds.get("uid", "")
    if ds.get("type") == "grafana" or uid in ("-- Grafana --", "grafana"):
        return
    if uid != DATASOURCE_UID and not uid.startswith("$"):
        problem(where, f"datasource uid {uid!r} is neither {DATASOURCE_UID!r} nor a variable")


def colour(c):
    return (c or "").upper()


def state_colours_by_name(panel):
    """state name -> colour from byName colour overrides and value mappings on text values."""
    found = {}
    fc = panel.get("fieldConfig", {})
    mapping_lists = [fc.get("defaults", {}).get("mappings", [])]
    for o in fc.get("overrides", []):
        name = o.get("matcher", {}).get("options")
        for prop in o.get("properties", []):
            if prop.get("id") == "color" and isinstance(prop.get("value"), dict):
                found[name] = colour(prop["value"].get("fixedColor"))
            if prop.get("id") == "mappings":
                mapping_lists.append(prop.get("value", []))
    for mappings in mapping_lists:
        for m in mappings:
            for key, res in m.get("options", {}).items():
                if isinstance(res, dict) and "color" in res:
                    found[key] = colour(res["color"])
    return found


def check_state_colours(where, panel, exprs):
    fc = panel.get("fieldConfig", {})
    if any("linkwatch_link_state_code" in e for e in exprs):
        options = {}
        for m in fc.get("defaults", {}).get("mappings", []):
            if m.get("type") == "value":
                options.update(m.get("options", {}))
        for code, name, want in STATES:
            got = options.get(str(code))
            if not got:
                problem(where, f"no value mapping for state code {code} ({name})")
            elif colour(got.get("color")) != want:
                problem(where, f"state {name} (code {code}) coloured {got.get('color')}, expected {want}")
            elif name.lower() not in got.get("text", "").lower().replace(" ", ""):
                problem(where, f"state code {code} shown as {got.get('text')!r}, expected {name}")
    legends = [t.get("legendFormat", "") for t in panel.get("targets", [])]
    by_state = any("{{state}}" in lf for lf in legends) or (
        panel.get("type") == "table" and any(re.search(r"\bby \([^)]*\bstate\b", e) for e in exprs))
    if by_state:
        got = state_colours_by_name(panel)
        for _, name, want in STATES:
            if colour(got.get(name)) != want:
                problem(where, f"state {name} coloured {got.get(name)}, expected {want}")


def metric_names_in_range_functions(expr):
    """Metric names that appear inside rate(...[..]), irate(...), increase(...)."""
    names = []
    for m in re.finditer(r"\b(" + "|".join(RANGE_FUNCTIONS) + r")\s*\(", expr):
        depth, i = 1, m.end()
        while i < len(expr) and depth:
            depth += {"(": 1, ")": -1}.get(expr[i], 0)
            i += 1
        inner = expr[m.end():i - 1]
        inner = re.sub(r"\{[^}]*\}", "", inner)
        inner = re.sub(r"\[[^\]]*\]", "", inner)
        names += re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", inner)
    return names


def shipped_member_names(src):
    names = set()
    for cfg in (src / "config").glob("*.cfg"):
        for line in cfg.read_text().splitlines():
            m = re.match(r"\s*(MemberId|MemberName|TargetCompID)\s*=\s*(.+?)\s*$", line)
            if m and m.group(2) and m.group(2) != "LINKWATCH":
                names.add(m.group(2))
    return names


def recording_rules(src):
    text = "".join(p.read_text() for p in (src / "config/prometheus/rules").glob("*.yml"))
    return set(re.findall(r"^\s*-?\s*record:\s*(\S+)", text, re.M))


def check_dashboard(path, members, recorded):
    where = path.name
    try:
        dash = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        problem(where, f"not valid JSON: {e}")
        return
    if dash.get("uid") != EXPECTED_UIDS.get(path.name, dash.get("uid")) or not dash.get("uid"):
        problem(where, f"uid {dash.get('uid')!r}, expected {EXPECTED_UIDS.get(path.name)!r}")
    if dash.get("schemaVersion") != SCHEMA_VERSION:
        problem(where, f"schemaVersion {dash.get('schemaVersion')!r}, expected {SCHEMA_VERSION}")
    if "id" in dash and dash["id"] is not None:
        problem(where, "dashboard has a database id: provisioning would clash")
    if not dash.get("title"):
        problem(where, "no title")
    text = path.read_text()
    for name in sorted(members):
        if re.search(r"(?<![A-Za-z0-9])" + re.escape(name) + r"(?![A-Za-z0-9])", text):
            problem(where, f"hard-coded member {name!r}")
    if re.search(r"\bBANK\d+\b", text):
        problem(where, "hard-coded member id BANKnn")

    variables = {v.get("name") for v in dash.get("templating", {}).get("list", [])}
    for v in dash.get("templating", {}).get("list", []):
        check_datasource(f"{where} variable {v.get('name')}", v.get("datasource"))
    for a in dash.get("annotations", {}).get("list", []):
        check_datasource(f"{where} annotation {a.get('name')}", a.get("datasource"))

    ids = set()
    panels = list(walk_panels(dash.get("panels", [])))
    if not panels:
        problem(where, "no panels")
    for p in panels:
        pw = f"{where} panel {p.get('id')} {p.get('title')!r}"
        pid = p.get("id")
        if not isinstance(pid, int):
            problem(pw, "panel id is not an integer")
        elif pid in ids:
            problem(pw, "duplicate panel id")
        ids.add(pid)
        gp = p.get("gridPos", {})
        if not all(k in gp for k in "hwxy") or gp.get("x", 0) + gp.get("w", 0) > 24:
            problem(pw, f"bad gridPos {gp}")
        if p.get("type") == "row":
            continue
        if not p.get("title"):
            problem(pw, "no title")
        check_datasource(pw, p.get("datasource"))
        targets = p.get("targets", [])
        for t in targets:
            check_datasource(f"{pw} target {t.get('refId')}", t.get("datasource"))
        exprs = panel_exprs(p)
        if targets and not exprs:
            problem(pw, "targets without a PromQL expr")
        if exprs and not p.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            problem(pw, "no unit set")
        for e in exprs:
            for name in metric_names_in_range_functions(e):
                if name in RANGE_FUNCTIONS or name in ("by", "without", "on", "sum", "max", "min"):
                    continue
                if not name.endswith(COUNTER_SUFFIXES):
                    problem(pw, f"rate/increase over {name}, which is not a counter")
            for var in re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", e):
                if var not in variables and var not in GRAFANA_VARIABLES:
                    problem(pw, f"undefined variable ${var}")
            for name in re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_:]+", e):
                if name not in recorded:
                    problem(pw, f"recording rule {name} is not defined in config/prometheus/rules")
            if e.count("(") != e.count(")"):
                problem(pw, f"unbalanced parentheses in {e!r}")
        check_state_colours(pw, p, exprs)
    return dash


def check_member_detail(dash):
    where = "member-detail.json"
    var = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}.get("member")
    if not var:
        problem(where, "no $member variable")
        return
    q = var.get("query")
    q = q.get("query") if isinstance(q, dict) else q
    if q != "label_values(linkwatch_member_info, member)":
        problem(where, f"$member comes from {q!r}")
    for p in walk_panels(dash["panels"]):
        for e in panel_exprs(p):
            if "linkwatch_" in e and "$member" not in e and "member_session" not in e:
                problem(f"{where} panel {p['id']}", f"query ignores $member: {e}")


def check_provisioning(src):
    ds = (src / "grafana/provisioning/datasources/linkwatch.yaml")
    db = (src / "grafana/provisioning/dashboards/linkwatch.yaml")
    for f in (ds, db):
        if not f.is_file():
            problem(str(f), "missing")
            return
    if not re.search(r"^\s*uid:\s*" + re.escape(DATASOURCE_UID) + r"\s*$", ds.read_text(), re.M):
        problem(ds.name, f"does not provision uid {DATASOURCE_UID}")
    if not re.search(r"^\s*type:\s*prometheus\s*$", ds.read_text(), re.M):
        problem(ds.name, "datasource is not of type prometheus")
    text = db.read_text()
    if not re.search(r"^\s*type:\s*file\s*$", text, re.M):
        problem(db.name, "provider is not of type file")
    if not re.search(r"^\s*options:\s*\n\s+path:\s*\S+", text, re.M):
        problem(db.name, "no options.path")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    src = pathlib.Path(sys.argv[1]).resolve()
    members = shipped_member_names(src)
    recorded = recording_rules(src)
    files = sorted((src / "grafana/dashboards").glob("*.json"))
    missing = set(EXPECTED_UIDS) - {f.name for f in files}
    for name in sorted(missing):
        problem(name, "missing")
    uids = {}
    for f in files:
        dash = check_dashboard(f, members, recorded)
        if dash:
            if dash.get("uid") in uids:
                problem(f.name, f"uid {dash['uid']} also used by {uids[dash['uid']]}")
            uids[dash.get("uid")] = f.name
            if f.name == "member-detail.json":
                check_member_detail(dash)
            if f.name == "link-lights.json" and not any(
                    "linkwatch_link_state_code" in e for p in walk_panels(dash["panels"])
                    for e in panel_exprs(p)):
                problem(f.name, "no panel shows the state lights")
    check_provisioning(src)
    for line in problems:
        print("FAIL", line)
    print(f"check_dashboards: {len(files)} dashboards, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
