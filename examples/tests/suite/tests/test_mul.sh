. lib/calc.sh
[ "$(mul 2 3)" = 6 ] && echo "ok mul" || { echo "FAIL mul"; exit 1; }
