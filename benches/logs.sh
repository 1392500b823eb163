#!/usr/bin/env bash
# The text-log readers at scale: a million-line IIS (W3C) log, a
# million-line Apache access log and 1.2 million audit records, made here
# (synthetic, deterministic), matched with one trivial rule (the read
# floor), with SigmaHQ's web or Linux rule tree, and with every rule of
# `rules` and `rules-emerging-threats` (a log that says what it is meets
# only its own rules). Reports wall and CPU time and peak memory (GNU time).
source "$(dirname "$0")/common.sh"
python3 - "$OUT" <<'PY'
import random, sys
out = sys.argv[1]
random.seed(1)
paths = ['/', '/index.html', '/owa/auth/logon.aspx', '/api/v1/items', '/static/app.js']
agents = ['Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+Chrome/120.0.0.0', 'curl/8.4.0', 'python-requests/2.31.0']
with open(f'{out}/u_ex.log', 'w') as f:
    f.write('#Software: Microsoft Internet Information Services 10.0\n#Version: 1.0\n'
            '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip '
            'cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n')
    for i in range(1_000_000):
        s = i % 86400
        f.write(f"2024-03-01 {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d} 10.0.0.5 "
                f"{random.choice(['GET', 'POST'])} {random.choice(paths)} {random.choice(['-', 'id=42'])} "
                f"443 - 203.0.113.{i % 250} {random.choice(agents)} - 200 0 0 {i % 500}\n")
with open(f'{out}/access.log', 'w') as f:
    for i in range(1_000_000):
        s = i % 86400
        query = random.choice(['', '?id=42', '?q=union+select'])
        f.write(f'203.0.113.{i % 250} - - [01/Mar/2024:{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d} +0000] '
                f'"{random.choice(["GET", "POST"])} {random.choice(paths)}{query} HTTP/1.1" 200 {i % 5000} '
                f'"-" "{random.choice(agents).replace("+", " ")}"\n')
with open(f'{out}/audit.log', 'w') as f:
    for i in range(300_000):
        stamp = f'{1700000000 + i}.123:{i}'
        f.write(f'type=SYSCALL msg=audit({stamp}): arch=c000003e syscall=59 success=yes exit=0 a0=55d0 '
                f'a1=55e0 items=2 ppid=100 pid={i} auid=1000 uid=0 tty=pts0 ses=1 comm="ls" exe="/usr/bin/ls" '
                f'key=(null)\x1dARCH=x86_64 SYSCALL=execve AUID="alice" UID="root"\n')
        f.write(f'type=EXECVE msg=audit({stamp}): argc=3 a0="ls" a1="-la" a2=2F746D702F6120620A\n')
        f.write(f'type=CWD msg=audit({stamp}): cwd="/root"\n')
        f.write(f'type=PROCTITLE msg=audit({stamp}): proctitle=6C73002D6C61\n')
PY
trivial() {
  printf 'title: Trivial\nlogsource: {%s}\ndetection:\n  sel:\n    %s: /nothing\n  condition: sel\n' "$1" "$2" > "$OUT/trivial.yml"
}
echo "== IIS log: $(du -m "$OUT/u_ex.log" | cut -f1) MB, 1,000,000 lines"
trivial "category: webserver" cs-uri-stem
t "read floor (one trivial rule)" "$B" match -q -f jsonl "$OUT/u_ex.log" --rules "$OUT/trivial.yml"
t "rules/web" "$B" match -q -f jsonl "$OUT/u_ex.log" --rules "$S/rules/web"
t "every rule" "$B" match -q -f jsonl "$OUT/u_ex.log" --rules "$S/rules" "$S/rules-emerging-threats"
echo "== access log: $(du -m "$OUT/access.log" | cut -f1) MB, 1,000,000 lines"
t "read floor (one trivial rule)" "$B" match -q -f jsonl "$OUT/access.log" --rules "$OUT/trivial.yml"
t "rules/web" "$B" match -q -f jsonl "$OUT/access.log" --rules "$S/rules/web"
t "every rule" "$B" match -q -f jsonl "$OUT/access.log" --rules "$S/rules" "$S/rules-emerging-threats"
echo "== audit log: $(du -m "$OUT/audit.log" | cut -f1) MB, 1,200,000 records"
trivial "product: linux, service: auditd" exe
t "read floor (one trivial rule)" "$B" match -q -f jsonl "$OUT/audit.log" --rules "$OUT/trivial.yml"
t "rules/linux" "$B" match -q -f jsonl "$OUT/audit.log" --rules "$S/rules/linux"
t "every rule" "$B" match -q -f jsonl "$OUT/audit.log" --rules "$S/rules" "$S/rules-emerging-threats"
