#!/bin/bash
# Stop what kube-up.sh started in RUNDIR, by the PIDs it recorded.
# Usage: kube-down.sh RUNDIR [COMPONENT...]   COMPONENT: kcm, apiserver or etcd (default: all three)
R=$1; shift
components=${*:-kcm apiserver etcd}
for p in $components; do
  f=$R/$p.pid; [ -f "$f" ] || continue; pid=$(cat "$f")
  kill "$pid" 2>/dev/null && for i in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  rm -f "$f"
done
