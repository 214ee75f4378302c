# A tiny library under test. add() has a bug that run.sh fixes on its
# third run.
add() { a=$1; b=$2; echo $((a - b)); }
mul() { echo $(($1 * $2)); }
