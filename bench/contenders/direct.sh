# Contender "direct": the app connects straight to the real server. No tunnel processes.
direct_init() { :; }
direct_setup() {
  C_PORT=$1
  C_PIDS=""
}
direct_teardown() { :; }
