[ "$(echo hello | tr a-z A-Z)" = HELLO ] && echo "ok strings" || exit 1
