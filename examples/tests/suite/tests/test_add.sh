. lib/calc.sh
[ "$(add 2 3)" = 5 ] && echo "ok add" || { echo "FAIL add: got $(add 2 3)"; exit 1; }
