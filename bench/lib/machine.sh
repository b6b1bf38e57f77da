# The machine a figure was measured on, as "key<TAB>value" lines (sourced by bench/run.sh,
# bench/cpu-account.sh and bench/startup.sh): ratios moved 40 % between two hosts of one kind, so every
# result names the CPU, its crypto-relevant flags, the kernel, its CPU vulnerability mitigations (they
# price every syscall), and the Node and OpenSSL versions.
host_meta() {
  printf 'cpu\t%s\n' "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  printf 'nproc\t%s\n' "$(nproc)"
  printf 'cpu_flags\t%s\n' "$(awk -F': ' '/^flags/ { print $2; exit }' /proc/cpuinfo | tr ' ' '\n' |
    grep -xE 'aes|pclmulqdq|avx|avx2|avx512f|vaes|vpclmulqdq|sha_ni|hypervisor' | tr '\n' ' ' | sed 's/ $//')"
  printf 'kernel\t%s\n' "$(uname -r)"
  local v mitigations=""
  for v in /sys/devices/system/cpu/vulnerabilities/*; do
    [ -r "$v" ] || continue
    case $(cat "$v") in "Not affected") ;; *) mitigations+="$(basename "$v"): $(cat "$v"); " ;; esac
  done
  printf 'mitigations\t%s\n' "${mitigations%; }"
  printf 'node\t%s\n' "$(node --version)"
  printf 'openssl\t%s\n' "$(node -p 'process.versions.openssl') (Node's own)"
}

# host_markdown: the same as a Markdown bullet list.
host_markdown() {
  host_meta | awk -F'\t' '{ printf "- %s: %s\n", $1, $2 }'
}
