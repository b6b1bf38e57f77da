# Reads `perf report --no-children --sort dso,sym --stdio -q` and prints the share of samples (%) in:
# crypto, kernel copy, kernel rest (TCP stack, syscalls, scheduling), GC, user-space copy, JavaScript
# (JIT code), runtime (the rest: V8 builtins, node, libuv, libc), tab-separated, in that order.
# Used by bench/cpu-account.sh --perf. Node links OpenSSL statically: crypto is found by symbol name.
/%/ {
  pct = $1; sub(/%/, "", pct)
  dso = $2; sym = ""
  for (i = 4; i <= NF; i++) sym = sym " " $i
  if (sym ~ /aesni|gcm|ghash|GHASH|_aes|AES_|EVP_|ossl_|CRYPTO_|chacha|poly1305|sha256|OPENSSL/) c = "crypto"
  else if (dso ~ /kernel/ && sym ~ /copy_user|copy_to_iter|copy_from_iter|memcpy|rep_mov|copyout|copyin|skb_copy/) c = "kcopy"
  else if (dso ~ /kernel/) c = "kernel"
  else if (sym ~ /memcpy|memmove/) c = "ucopy"
  else if (sym ~ /Heap|Scaveng|Mark|Sweep|Evacuat|Compact|GCTracer|ConcurrentMarking|MemoryAllocator|Sweeper|RememberedSet|SlotSet|ArrayBufferSweeper|ArrayBufferExtension|BackingStore/) c = "gc"
  else if (dso ~ /JIT|perf-[0-9]+\.map|unknown/) c = "js"
  else c = "runtime"
  share[c] += pct
}
END {
  printf "%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f", share["crypto"], share["kcopy"], share["kernel"], share["gc"], share["ucopy"], share["js"], share["runtime"]
}
