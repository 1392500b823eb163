"""The matcher against pySigma's SQLite backend (see check.sh).

  check.py [paths] rules               convert every Windows rule once
  check.py [paths] real STREAM         the real events of a JSONL stream
  check.py [paths] synthetic SEED      events made from the rules' values
  check.py [paths] correlations SEED N N random correlations
  check.py [paths] chains SEED N       N random correlations of a correlation
  check.py [paths] filters SEED N      N random filters
  check.py [paths] random-rules SEED N N random rules (every modifier) over random events
"""
import argparse, base64, datetime, functools, glob, ipaddress, json, os, random, re
import sqlite3, subprocess
import yaml
from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection

TREES = ["rules", "rules-emerging-threats", "rules-threat-hunting"]


def convert_rules(a):
    """Windows rules with logsource `product: windows`, and their queries."""
    out = os.path.join(a.work, "rules")
    os.makedirs(out, exist_ok=True)
    backend, queries, skipped = sqliteBackend(), {}, 0
    for tree in TREES:
        for path in sorted(glob.glob(f"{a.data}/sigma/{tree}/**/*.yml", recursive=True)):
            docs = list(yaml.safe_load_all(open(path, encoding="utf-8")))
            rule = docs[0] if len(docs) == 1 else None
            if not isinstance(rule, dict) or "detection" not in rule:
                continue
            if (rule.get("logsource") or {}).get("product") != "windows":
                continue
            rule["logsource"] = {"product": "windows"}
            text = yaml.safe_dump(rule, sort_keys=False, allow_unicode=True)
            try:
                (query,) = backend.convert(SigmaCollection.from_yaml(text))
            except Exception:  # keywords need a full-text column; placeholders
                skipped += 1
                continue
            queries[rule["id"]] = {"q": query, "title": rule.get("title")}
            open(f"{out}/{rule['id']}.yml", "w", encoding="utf-8").write(text)
    json.dump(queries, open(os.path.join(a.work, "queries.json"), "w"))
    print(f"{len(queries)} rules converted, {skipped} the backend cannot convert")


def flat(event):
    """An EVTX-shaped event's System and EventData/UserData leaves."""
    row, system = {}, event["Event"]["System"]
    for k, v in system.items():
        if k == "Provider":
            for kk, vv in v.get("#attributes", {}).items():
                row["Provider_" + kk] = vv
        elif k == "EventID":
            row[k] = v["#text"] if isinstance(v, dict) else v
        elif not isinstance(v, (dict, list)):
            row[k] = v

    def leaves(o):
        if isinstance(o, dict):
            for k, v in o.items():
                if isinstance(v, (dict, list)) or k == "#attributes":
                    leaves(v)
                else:
                    row.setdefault(k, v)
        elif isinstance(o, list):
            for v in o:
                leaves(v)

    for part in ("EventData", "UserData"):
        if isinstance(event["Event"].get(part), dict):
            leaves(event["Event"][part])
    return row


def load(rows, db_path):
    """A table `logs` of flat rows keyed by `EventRecordID`."""
    cols, fixed = {}, []
    for r in rows:
        out = {}
        for k, v in r.items():
            if isinstance(v, bool):
                v = "true" if v else "false"
            elif isinstance(v, int) and abs(v) > 2**62:
                v = str(v)
            out.setdefault(cols.setdefault(k.lower(), k), v)
        fixed.append(out)
    if os.path.exists(db_path):
        os.remove(db_path)
    db = sqlite3.connect(db_path)
    db.create_function("regexp", 2, regexp, deterministic=True)
    names = ", ".join(f'"{c}" NUMERIC COLLATE NOCASE' for c in cols.values())
    db.execute(f"create table logs (row_id INTEGER PRIMARY KEY, {names})")
    for r in fixed:
        keys = list(r)
        marks = ",".join("?" * (len(keys) + 1))
        quoted = ",".join(f'"{k}"' for k in keys)
        db.execute(f"insert into logs (row_id, {quoted}) values ({marks})",
                   [r["EventRecordID"]] + [r[k] for k in keys])
    db.commit()
    return db


@functools.lru_cache(maxsize=None)
def compiled(pattern):
    try:
        return re.compile(pattern)
    except re.error:
        return None


def regexp(pattern, value):
    c = compiled(pattern)
    return int(value is not None and c is not None and c.search(str(value)) is not None)


def rows_of(db, sql):
    """A query's rows; a column no event has is added, empty."""
    while True:
        try:
            return db.execute(sql).fetchall()
        except sqlite3.OperationalError as e:
            missing = re.match(r"no such column: (.*)", str(e))
            if not missing:
                raise
            db.execute(f'alter table logs add column "{missing.group(1)}" NUMERIC COLLATE NOCASE')


def reference_hits(a, db):
    queries = json.load(open(os.path.join(a.work, "queries.json")))
    hits = {rid: {r[0] for r in rows_of(db, q["q"].replace("SELECT * FROM logs", "SELECT row_id FROM logs", 1))}
            for rid, q in queries.items()}
    return queries, hits


def our_hits(a, events, rules):
    out = subprocess.run([a.bin, "match", "-q", "-f", "jsonl", events, "--rules", rules],
                         capture_output=True, text=True, check=True).stdout
    hits = {}
    for line in out.splitlines():
        o = json.loads(line)
        hits.setdefault(o["rule_id"], set()).add(o["record"])
    return hits


def compare(a, events_path, rows):
    db = load(rows, os.path.join(a.work, "events.db"))
    queries, theirs = reference_hits(a, db)
    ours = our_hits(a, events_path, os.path.join(a.work, "rules"))
    by_record = {r["EventRecordID"]: r for r in rows}
    differ = 0
    for rid, q in queries.items():
        for side, extra in (("reference only", theirs[rid] - ours.get(rid, set())),
                            ("matcher only", ours.get(rid, set()) - theirs[rid])):
            if extra:
                differ += 1
                print(f"  {side}: {len(extra)} event(s), {q['title']} ({rid})")
                print("    e.g.", json.dumps(by_record[min(extra)])[:300])
    total = sum(len(v) for v in theirs.values())
    print(f"{len(rows)} events, {len(queries)} rules, {total} reference detections, {differ} rule(s) differ")


def real(a):
    rows, path = [], os.path.join(a.work, "real.jsonl")
    with open(a.stream) as f, open(path, "w") as w:
        for n, line in enumerate(f, start=1):
            event = json.loads(line)
            event["Event"]["System"]["EventRecordID"] = n  # unique across files
            w.write(json.dumps(event) + "\n")
            rows.append(flat(event))
    compare(a, path, rows)


def synthetic(a):
    rng = random.Random(a.seed)
    rows = []
    for path in sorted(glob.glob(os.path.join(a.work, "rules", "*.yml"))):
        detection = yaml.safe_load(open(path, encoding="utf-8"))["detection"]
        maps = []
        for k, v in detection.items():
            if isinstance(v, dict) and k not in ("condition", "timeframe"):
                maps.append(v)
            elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                maps.extend(v)
        for _ in range(8 if maps else 0):
            event = {"Channel": "Security"}
            for m in rng.sample(maps, k=rng.randint(1, len(maps))):
                for key, values in m.items():
                    field, *mods = key.split("|")
                    values = values if isinstance(values, list) else [values]
                    if "fieldref" in mods or not values or rng.random() < 0.1:
                        continue
                    value = made(rng, set(mods), rng.choice(values))
                    if value is not None or rng.random() < 0.5:
                        event[field] = value
            event["EventRecordID"] = len(rows) + 1
            rows.append(event)
    path = os.path.join(a.work, "synthetic.jsonl")
    with open(path, "w") as w:
        w.writelines(json.dumps(r) + "\n" for r in rows)
    compare(a, path, rows)


def made(rng, mods, v):
    """A value near what `v` under `mods` matches: on it, or just off it."""
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        if mods & {"gt", "gte", "lt", "lte"}:
            return v + rng.choice([-1, 0, 1])
        return rng.choice([v, str(v), str(v) + "0", v + 1])
    v = str(v)
    if "re" in mods:
        return rng.choice([v, v.replace("\\", ""), "x" + v.replace(".*", "abc").replace("\\", "") + "y"])
    if "cidr" in mods:
        try:
            net = ipaddress.ip_network(v, strict=False)
            return str(net[rng.randrange(min(net.num_addresses, 256))])
        except ValueError:
            return v
    if "exists" in mods:
        return "x"
    s = unwild(rng, v) if "expand" not in mods else v
    if "windash" in mods and rng.random() < 0.7:
        dash = rng.choice(["-", "/", "\u2013", "\u2014", "\u2015"])
        s = s.replace(" -", " " + dash).replace(" /", " " + dash)
    if "cased" not in mods:
        s = rng.choice([s.upper(), s.lower(), s, "".join(c.upper() if rng.random() < 0.5 else c for c in s)])
    if s and rng.random() < 0.4:
        i = rng.randrange(len(s))
        s = rng.choice([s[:i] + s[i + 1:], s[:i] + "\\" + s[i:], s[:i] + rng.choice("*?%_ ") + s[i:], s + s])
    encoding = ("utf-16-le" if mods & {"utf16le", "wide"} else "utf-16-be" if "utf16be" in mods
                else "utf-16" if "utf16" in mods else "utf-8")
    if "base64offset" in mods:
        s = "PRE"[: rng.randrange(4)] + s + "xy"[: rng.randrange(3)]
        return base64.b64encode(s.encode(encoding)).decode()
    if "base64" in mods:
        return base64.b64encode(s.encode(encoding)).decode()
    if "contains" in mods:
        return rng.choice(["", "a ", "C:\\x\\"]) + s + rng.choice(["", ".exe", " b"])
    if "startswith" in mods:
        return s + rng.choice(["", " -x", "\\y"])
    if "endswith" in mods:
        return rng.choice(["", "C:\\", "\\"]) + s
    return s


def unwild(rng, v):
    """A text the Sigma wildcards of `v` match (escapes kept literal)."""
    out, i = [], 0
    while i < len(v):
        if v[i] == "\\" and i + 1 < len(v) and v[i + 1] in "*?\\":
            out.append(v[i + 1])
            i += 2
            continue
        out.append({"*": rng.choice(["", "abc", " X\\", "*"]), "?": rng.choice(["Q", "?", "\\"])}.get(v[i], v[i]))
        i += 1
    return "".join(out)


def correlations(a):
    """Random correlations (chained, with `chains`) over random events."""
    rng = random.Random(a.seed)
    base = [{"title": f"r{k}", "id": f"00000000-0000-0000-0000-00000000000{k}", "name": f"r{k}",
             "logsource": {"product": "windows"},
             "detection": {"sel": {"EventID": k}, "condition": "sel"}} for k in (1, 2, 3)]
    differ = 0
    for _ in range(a.rounds):
        events = random_events(rng)
        docs = base + (random_chain(rng) if a.what == "chains" else [random_correlation(rng)])
        text = "\n---\n".join(yaml.safe_dump(d, sort_keys=False) for d in docs)
        query = sqliteBackend().convert(SigmaCollection.from_yaml(text))[-1]
        db = load([dict(e, timestamp=e["TimeCreated"]) for e in events], ":memory:")
        theirs = {folded(json.loads(row[1])) for row in rows_of(db, query)}
        rules, path = os.path.join(a.work, "corr.yml"), os.path.join(a.work, "corr.jsonl")
        open(rules, "w").write(text)
        open(path, "w").writelines(json.dumps(e) + "\n" for e in events)
        out = subprocess.run([a.bin, "match", "-q", "-f", "jsonl", path, "--rules", rules],
                             capture_output=True, text=True, check=True).stdout
        ours = {folded(dict(o["correlation"]["group"])) for o in map(json.loads, out.splitlines())
                if o.get("rule") == "corr"}
        if theirs != ours:
            differ += 1
            print("  differ:", [d["correlation"] for d in docs[3:]], "reference", sorted(theirs), "matcher", sorted(ours))
    print(f"{a.rounds} random {a.what}, {differ} differ in the groups that fire")


def random_chain(rng):
    """A correlation `c1` over the rules, and `corr` over `c1` and `r3`."""
    kind = rng.choice(["event_count", "value_count"])
    low = {"type": kind, "rules": rng.choice([["r1"], ["r1", "r2"]]), "group-by": ["user"],
           "timespan": f"{rng.choice([10, 30, 60])}s", "condition": {"gte": rng.randint(1, 3)}}
    if kind == "value_count":
        low["condition"]["field"] = "host"
    high = {"type": rng.choice(["temporal", "event_count", "temporal_ordered"]),
            "rules": rng.choice([["c1", "r3"], ["r3", "c1"]]), "group-by": ["user"],
            "timespan": f"{rng.choice([30, 60, 120])}s", "condition": {"gte": 2}}
    return [{"title": "c1", "id": "00000000-0000-0000-0000-0000000000c1", "name": "c1", "correlation": low},
            {"title": "corr", "id": "00000000-0000-0000-0000-0000000000cc", "correlation": high}]


def filters(a):
    """Random filters (by id or name, in or out of their logsource) over random events."""
    rng = random.Random(a.seed)
    base = [{"title": f"r{k}", "id": f"00000000-0000-0000-0000-00000000000{k}", "name": f"r{k}",
             "logsource": {"product": "windows"},
             "detection": {"sel": {"EventID": k}, "condition": "sel"}} for k in (1, 2)]
    differ = 0
    for _ in range(a.rounds):
        events = random_events(rng)
        f = {"title": "f", "id": "00000000-0000-0000-0000-0000000000ff",
             "logsource": {"product": rng.choice(["windows", "windows", "linux"])},
             "filter": {"rules": rng.choice([["r1"], [base[0]["id"]], ["r2"], ["r1", "r2"]]),
                        "sel": {"user": rng.choice("aAb")}, "sel2": {"host": rng.choice(["h1", "h2"])},
                        "condition": rng.choice(["not sel", "sel", "not sel and not sel2",
                                                 "not (sel or sel2)", "sel2 and not sel"])}}
        text = "\n---\n".join(yaml.safe_dump(d, sort_keys=False) for d in base + [f])
        db = load(events, ":memory:")
        theirs = set()
        for k, q in enumerate(sqliteBackend().convert(SigmaCollection.from_yaml(text))):
            theirs |= {(f"r{k + 1}", r[0]) for r in rows_of(db, q.replace("SELECT *", "SELECT row_id", 1))}
        rules, path = os.path.join(a.work, "filter.yml"), os.path.join(a.work, "filter.jsonl")
        open(rules, "w").write(text)
        open(path, "w").writelines(json.dumps(e) + "\n" for e in events)
        out = subprocess.run([a.bin, "match", "-q", "-f", "jsonl", path, "--rules", rules],
                             capture_output=True, text=True, check=True).stdout
        ours = {(o["rule"], o["record"]) for o in map(json.loads, out.splitlines())}
        if theirs != ours:
            differ += 1
            print("  differ:", f["logsource"], f["filter"])
    print(f"{a.rounds} random filters, {differ} differ in the detections")


CHARS = ["a", "A", "b", "-", "/", " ", "\\", "*", "?", "%", "_", ".", "é", "x"]


def random_rules(a):
    """Random rules (every kind of modifier, null, lists, conditions) over random events."""
    rng = random.Random(a.seed)
    counts = {"differ": 0, "only the reference reads": 0, "only the matcher reads": 0}
    for _ in range(a.rounds):
        rule = random_rule(rng)
        text = yaml.safe_dump(rule, sort_keys=False, allow_unicode=True)
        events = [dict({"Channel": "Security", "EventRecordID": i + 1},
                       **{f: random_value(rng) for f in ("f1", "f2", "f3") if rng.random() < 0.85})
                  for i in range(30)]
        try:
            query = sqliteBackend().convert(SigmaCollection.from_yaml(text))[0]
        except Exception as e:
            query, refused = None, f"{type(e).__name__}: {str(e)[:90]}"
        rules, path = os.path.join(a.work, "random.yml"), os.path.join(a.work, "random.jsonl")
        open(rules, "w").write(text)
        open(path, "w").writelines(json.dumps(e, ensure_ascii=False) + "\n" for e in events)
        p = subprocess.run([a.bin, "match", "-f", "jsonl", path, "--rules", rules], capture_output=True, text=True)
        ours_ran = "1 run" in p.stderr
        if query is None or not ours_ran:
            if ours_ran != (query is None):
                continue  # both refuse it
            side = "only the matcher reads" if query is None else "only the reference reads"
            counts[side] += 1
            if query is not None:
                said = [line for line in p.stderr.splitlines() if line.startswith("error")]
                print("  only the reference reads:", json.dumps(rule["detection"], ensure_ascii=False), said[:1])
            elif a.verbose:
                print("  only the matcher reads:", json.dumps(rule["detection"], ensure_ascii=False), refused)
            continue
        # SQLite orders any text after every number: compare numbers only.
        query = re.sub(r"\b(f[123]) (>=|<=|>|<) (-?[0-9.]+)", r"(typeof(\1) IN ('integer','real') AND \1 \2 \3)", query)
        db = load(events, ":memory:")
        theirs = {r[0] for r in rows_of(db, query.replace("SELECT *", "SELECT row_id", 1))}
        ours = {json.loads(line)["record"] for line in p.stdout.splitlines()}
        if theirs != ours:
            counts["differ"] += 1
            k = min(theirs ^ ours)
            side = "reference" if k in theirs else "matcher"
            print("  differ:", json.dumps(rule["detection"], ensure_ascii=False))
            print(f"    only the {side} fires on", json.dumps(events[k - 1], ensure_ascii=False))
    print(f"{a.rounds} random rules: {counts}")


def random_rule(rng):
    detection, names = {}, []
    for k in range(rng.randint(1, 3)):
        name = rng.choice(["sel", "sel_a", "filter", "_x"]) + str(k)
        detection[name] = dict(random_item(rng) for _ in range(rng.randint(1, 2)))
        names.append(name)
    condition = rng.choice([" and ".join(names), " or ".join(names), "not " + names[0], "all of them",
                            "1 of them", names[0] + " and not " + names[-1], "not (" + " or ".join(names) + ")"]
                           + (["1 of sel*"] if any(n.startswith("sel") for n in names) else []))
    detection["condition"] = condition
    return {"title": "t", "id": "00000000-0000-0000-0000-0000000000aa", "logsource": {"product": "windows"},
            "detection": detection}


def random_item(rng):
    field, r = rng.choice(["f1", "f2", "f3"]), rng.random()
    if r < 0.08:
        return field + "|exists", rng.choice([True, False])
    if r < 0.16:
        return field + "|" + rng.choice(["gt", "gte", "lt", "lte"]), rng.choice([0, 1, 2, 5, -1, 1.5])
    if r < 0.22:
        return field + "|re" + rng.choice(["", "|i", "|m", "|s", "|i|s"]), rng.choice(["^a", "a.b", "A$", "[ab]+", "a|b", "\\.", "é"])
    if r < 0.27:
        return field + "|cidr", rng.choice(["10.0.0.0/8", "192.168.1.0/24", "10.1.2.3/32", "::1/128", "fe80::/10"])
    position = rng.choice(["", "|contains", "|startswith", "|endswith"])
    if r < 0.32:
        return field + "|fieldref" + position, rng.choice([f for f in ("f1", "f2", "f3") if f != field])
    extra, r = "", rng.random()
    if r < 0.15:
        extra = "|windash"
    elif r < 0.25:
        extra = "|cased"
    elif r < 0.33:
        extra = rng.choice(["|base64", "|base64offset", "|utf16le|base64offset", "|wide|base64offset"])
        position = "|contains" if "offset" in extra else position
    values = ["".join(rng.choice(CHARS) for _ in range(rng.randint(0, 4))) for _ in range(rng.randint(1, 3))]
    if rng.random() < 0.1:
        values = [None]
    elif rng.random() < 0.1 and not position and not extra:
        values.append(None)
    if rng.random() < 0.1 and len(values) > 1:
        extra += "|all"
    if rng.random() < 0.1:
        values = [rng.choice([0, 1, 2])]
    return field + position + extra, values if len(values) > 1 else values[0]


def random_value(rng):
    r = rng.random()
    if r < 0.1:
        return None
    if r < 0.2:
        return rng.choice([0, 1, 2, 5, -1, 1.5, "1", "1.5"])
    if r < 0.27:
        return rng.choice(["10.1.2.3", "192.168.1.7", "::1", "fe80::1", "11.0.0.1"])
    if r < 0.33:
        text = "".join(rng.choice(CHARS) for _ in range(3)) + "ab"
        return base64.b64encode(text.encode(rng.choice(["utf-8", "utf-16-le"]))).decode()
    return "".join(rng.choice(CHARS) for _ in range(rng.randint(0, 6)))


def folded(group):
    return tuple(sorted((k, str(v).lower()) for k, v in group.items()))


def random_events(rng):
    start, events = datetime.datetime(2024, 1, 1), []
    for i in range(rng.randint(1, 40)):
        e = {"Channel": "Security", "EventID": rng.choice([1, 2, 3]), "EventRecordID": i + 1,
             "TimeCreated": (start + datetime.timedelta(seconds=rng.randint(0, 300))).strftime("%Y-%m-%dT%H:%M:%SZ")}
        if rng.random() < 0.9:
            e["usr" if e["EventID"] == 2 and rng.random() < 0.5 else "user"] = rng.choice("aAbBc")
        if rng.random() < 0.8:
            e["host"] = rng.choice(["h1", "H1", "h2"])
        if rng.random() < 0.8:
            e["n"] = rng.choice([1, 2, 5, 10, "7", "x", 0, -3])
        events.append(e)
    return events


def random_correlation(rng):
    kind = rng.choice(["event_count", "value_count", "temporal", "temporal_ordered", "value_sum", "value_avg"])
    refs = rng.choice([["r1"], ["r1", "r2"], ["r2", "r1"], ["r1", "r2", "r3"]])
    if kind == "temporal_ordered" and len(refs) < 2:
        refs = ["r1", "r2"]
    if kind.startswith("temporal"):
        condition = {"gte": len(refs)}
    else:
        limit = {"value_count": rng.randint(1, 3), "event_count": rng.randint(1, 4)}.get(kind, rng.choice([3, 5, 10, 15]))
        condition = {rng.choice(["gte", "gt", "lte", "lt", "eq"]): limit}
    if kind in ("value_count", "value_sum", "value_avg"):
        condition["field"] = "host" if kind == "value_count" else "n"
    c = {"type": kind, "rules": refs, "group-by": rng.choice([["user"], ["user", "host"]]),
         "timespan": f"{rng.choice([10, 30, 60, 120])}s", "condition": condition}
    if rng.random() < 0.4:
        c["aliases"] = {"u": {"r1": "user", "r2": "usr", "r3": "user"}}
        c["group-by"] = ["u"] + c["group-by"][1:]
    return {"title": "corr", "id": "00000000-0000-0000-0000-0000000000cc", "correlation": c}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--bin", required=True)
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="what", required=True)
    sub.add_parser("rules")
    sub.add_parser("real").add_argument("stream")
    sub.add_parser("synthetic").add_argument("seed", type=int)
    for name in ("correlations", "chains", "filters", "random-rules"):
        c = sub.add_parser(name)
        c.add_argument("seed", type=int)
        c.add_argument("rounds", type=int)
    a = p.parse_args()
    {"rules": convert_rules, "real": real, "synthetic": synthetic,
     "correlations": correlations, "chains": correlations, "filters": filters,
     "random-rules": random_rules}[a.what](a)


if __name__ == "__main__":
    main()
