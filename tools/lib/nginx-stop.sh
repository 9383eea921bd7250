# Sourced by the bench scripts: stop the nginx whose pid file is $1,
# waiting up to $2 tenths of a second for a graceful QUIT; a stuck
# worker then gets KILL, with its master and nothing else.
evb_stop_nginx() {
    local pidfile=$1 tenths=$2 pid i kids
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile" 2>/dev/null || true)
    [ -n "$pid" ] || return 0
    kill -QUIT "$pid" 2>/dev/null || return 0
    for i in $(seq 1 "$tenths"); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kids=$(pgrep -P "$pid" || true)
    kill -KILL "$pid" $kids 2>/dev/null || true
}
