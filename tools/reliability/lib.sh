# Helpers shared by the reliability scripts (sourced, not run).

# stop_pids PID...: SIGTERM to each that still runs, up to 5 s for each to exit, then SIGKILL to what is left.
stop_pids() {
    local pid
    for pid in "$@"; do
        kill -0 "$pid" 2>/dev/null && kill "$pid" 2>/dev/null
    done
    for pid in "$@"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    done
    return 0
}

# wait_healthy ADMIN_URL: waits up to 30 s for the pool's /healthz; status 1 when it never answered.
wait_healthy() {
    for _ in $(seq 150); do
        curl -fsS -m 1 "$1/healthz" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    return 1
}
