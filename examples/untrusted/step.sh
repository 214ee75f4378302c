#!/bin/sh
# An untrusted step: does its job, and tries to get out.
echo "result: 42" >out/result.txt
echo "== write outside the output directory"
echo pwned >/etc/procache-untrusted-was-here && echo "  wrote (in the sandbox only: not applied)"
echo "== read a secret under \$HOME"
cat "$1" 2>&1 | sed 's/^/  /' || :
echo "== reach the network"
(exec 3<>/dev/tcp/1.1.1.1/53) 2>&1 | sed 's/^/  /' || echo "  no route"
echo "== fork bomb (limited by --pids)"
i=0; while [ $i -lt 200 ]; do sleep 5 & i=$((i + 1)); done 2>&1 | tail -1 | sed 's/^/  /'
echo "  $(jobs -p | wc -l) processes started"
echo "== escape attempts done"
