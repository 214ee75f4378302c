#!/bin/sh
# An untrusted step: does its job, and tries to get out.
echo "result: 42" >out/result.txt
echo "== write outside the output directory"
if echo pwned 2>/dev/null >/etc/procache-untrusted-was-here; then
	echo "  wrote /etc (in the sandbox only: never applied)"
else
	echo "  refused: cannot write /etc"
fi
echo "== read a secret under \$HOME"
cat "$1" 2>&1 | sed 's/^/  /'
echo "== reach the network"
python3 -c '
import socket
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3)
    print("  connected!")
except OSError as e:
    print("  refused:", e)'
echo "== fork bomb (limited by --pids)"
python3 -c '
import os, time
n = 0
try:
    for i in range(300):
        if os.fork() == 0:
            time.sleep(5)
            os._exit(0)
        n += 1
    print("  started all", n, "processes")
except OSError as e:
    print("  fork failed after", n, "processes:", e.strerror)'
echo "== escape attempts done"
