#!/usr/bin/env python3
"""Data files for tools/bench/run.sh.

  benchdata.py users N DIR [--sip-a PORT --admin-a PORT --sip-b PORT --admin-b PORT]
      Generates N users (b00001, ...) homed at pool-a, each with a random password, plus the lab users of
      config/users.json, and writes into DIR the same credentials for both registrars:
        topology.json   the shipped topology with the bench's ports, 10,000-orbit ranges and every user
        users.json      the pool's credentials (plain passwords, as the lab file)
        users.csv       sipp injection file: user;[authentication username=U password=P]  (generated users only)
        users.cfg       Kamailio statements filling the 'users' htable (included by kamailio.cfg)
  benchdata.py stat FILE COLUMN...
      The columns' values in the last row of a sipp -trace_stat file (';' separated), one per line ('?' if absent).
"""
import json
import os
import secrets
import string
import sys


def users(count, folder, ports):
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    topology = json.load(open(os.path.join(root, "config", "topology.json")))
    lab = json.load(open(os.path.join(root, "config", "users.json")))["Users"]
    alphabet = string.ascii_letters + string.digits
    # A letter first: sipp reads a password that starts with "0x" as hexadecimal, and its digest would not match.
    generated = [(f"b{i:05d}", secrets.choice(string.ascii_letters) + "".join(secrets.choice(alphabet) for _ in range(15)))
                 for i in range(1, count + 1)]

    pools = topology["Topology"]["Pools"]
    for pool in pools:
        side = "a" if pool["Name"] == "pool-a" else "b"
        pool["Sip"] = f"127.0.0.1:{ports['sip-' + side]}"
        pool["Admin"] = f"http://127.0.0.1:{ports['admin-' + side]}"
        # Lync's rule: start and end of a range equal in length; five digits give each pool 10,000 orbits.
        pool["Orbits"] = ["70000-79999"] if side == "a" else ["80000-89999"]
    topology["Topology"]["Users"] += [{"User": user, "HomePool": "pool-a"} for user, _ in generated]
    with open(os.path.join(folder, "topology.json"), "w") as f:
        json.dump(topology, f, indent=1)

    everyone = [(u["user"], u["password"]) for u in lab] + generated
    with open(os.path.join(folder, "users.json"), "w") as f:
        json.dump({"Users": [{"user": user, "password": password} for user, password in everyone]}, f, indent=1)
    with open(os.path.join(folder, "users.csv"), "w") as f:
        f.write("SEQUENTIAL\n")
        for user, password in generated:
            f.write(f"{user};[authentication username={user} password={password}]\n")
    with open(os.path.join(folder, "users.cfg"), "w") as f:
        for user, password in everyone:
            f.write(f'$sht(users=>{user}) = "{password}";\n')


def stat(path, columns):
    header, last = None, None
    with open(path) as f:
        for line in f:
            cells = line.rstrip("\n").split(";")
            if header is None:
                header = cells
            elif len(cells) > 1:
                last = cells
    for column in columns:
        value = "?"
        if header and last and column in header:
            index = header.index(column)
            if index < len(last) and last[index] != "":
                value = last[index]
        print(value)


def main(argv):
    if len(argv) >= 3 and argv[0] == "users":
        ports = {"sip-a": 5160, "admin-a": 8160, "sip-b": 5162, "admin-b": 8162}
        rest = argv[3:]
        while rest:
            key, value = rest[0].lstrip("-"), rest[1]
            if key not in ports:
                raise SystemExit(f"benchdata.py: unknown option --{key}")
            ports[key] = int(value)
            rest = rest[2:]
        users(int(argv[1]), argv[2], ports)
    elif len(argv) >= 3 and argv[0] == "stat":
        stat(argv[1], argv[2:])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
