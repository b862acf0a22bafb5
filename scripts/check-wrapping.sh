#!/usr/bin/env bash
# make test: no wrapping arithmetic (&+ &- &* and their = forms) in Sources/ except where wrapping is the point.
# Money, counts and sizes that come from outside (reports, statements, exports, requests) must be refused or saturated
# when they leave their range, never wrapped modulo 2^64 (issue 24: two reports of 2^64-1 and 3 views tallied 2).
#
# Every hit must be listed below, by file and exact line (leading spaces trimmed), with the reason; a listed line
# that no longer exists is an error too, so the list cannot rot. Prints each violation; exits 1 if there is one.
set -euo pipefail
cd "$(dirname "$0")/.."

# file @@ line @@ reason
allowed=$(cat <<'EOF'
Sources/Routing/Rendezvous.swift @@ for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 } @@ hashing: FNV-1a 64 of the content id
Sources/Routing/Rendezvous.swift @@ hash = (hash ^ 0) &* 0x0000_0100_0000_01b3 @@ hashing: FNV-1a 64 separator byte
Sources/Routing/Rendezvous.swift @@ for byte in node.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 } @@ hashing: FNV-1a 64 of the node name
Sources/Routing/Rendezvous.swift @@ hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9 @@ hashing: SplitMix64 finaliser of the rendezvous weight
Sources/Routing/Rendezvous.swift @@ hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb @@ hashing: SplitMix64 finaliser of the rendezvous weight
Sources/Gossip/ProbeSchedule.swift @@ var state = pass &* 0x9E37_79B9_7F4A_7C15 ^ 0x5EED_0F_5107 @@ PRNG: SplitMix64 seed of the probe order, from the pass number
Sources/Gossip/ProbeSchedule.swift @@ state &+= 0x9E37_79B9_7F4A_7C15 @@ PRNG: SplitMix64 step (the golden-ratio increment wraps by design)
Sources/Gossip/ProbeSchedule.swift @@ var mixed = (state ^ (state >> 30)) &* 0xBF58_476D_1CE4_E5B9 @@ PRNG: SplitMix64 output mix
Sources/Gossip/ProbeSchedule.swift @@ mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB @@ PRNG: SplitMix64 output mix
Sources/Gossip/GossipCore.swift @@ sequence &+= 1 @@ protocol: a probe's sequence number is a u32 wire identifier that wraps by design (only equality is used, for live probes)
Sources/EdgeCache/ZipfTrace.swift @@ state &+= 0x9E37_79B9_7F4A_7C15 @@ PRNG: SplitMix64 step of the benchmark trace generator
Sources/EdgeCache/ZipfTrace.swift @@ z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9 @@ PRNG: SplitMix64 output mix
Sources/EdgeCache/ZipfTrace.swift @@ z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB @@ PRNG: SplitMix64 output mix
Sources/EdgeNode/HTTP/ContentStore.swift @@ for byte in path.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 } @@ hashing: FNV-1a 64 of the request path (open-file cache key)
Sources/HTTPSemantics/ByteRanges.swift @@ if range.lowerBound <= last.upperBound &+ coalescingGap { @@ data plane, bounded: ranges are clamped to the representation's length (a file size, below 2^63) and the gap is a small constant
EOF
)

# Every wrapping operator in the sources, as "file @@ number @@ trimmed line" ("&&" is logic, not arithmetic).
hits=$(grep -rnE --include='*.swift' '&[-+*]' Sources | awk '{
    split($0, parts, ":"); file = parts[1]; number = parts[2]
    text = substr($0, length(file) + length(number) + 3)
    probe = text; gsub(/&&/, "", probe)
    if (probe !~ /&[-+*]/) next
    sub(/^[ \t]+/, "", text); sub(/[ \t]+$/, "", text)
    print file " @@ " number " @@ " text
}' || true)

# The allowed lines, as "file @@ trimmed line".
allowedLines=$(printf '%s\n' "$allowed" | awk -F' @@ ' 'NF == 3 { print $1 " @@ " $2 }')
hitLines=$(printf '%s\n' "$hits" | awk -F' @@ ' 'NF == 3 { print $1 " @@ " $3 }')

status=0
while IFS= read -r hit; do
    [ -n "$hit" ] || continue
    file=${hit%% @@ *}; rest=${hit#* @@ }; number=${rest%% @@ *}; text=${rest#* @@ }
    if ! grep -qxF -- "$file @@ $text" <<< "$allowedLines"; then
        echo "$file:$number: wrapping arithmetic outside the allow-list: $text" >&2
        status=1
    fi
done <<< "$hits"

# Allowed lines that match nothing any more.
while IFS= read -r entry; do
    [ -n "$entry" ] || continue
    if ! grep -qxF -- "$entry" <<< "$hitLines"; then
        echo "scripts/check-wrapping.sh: the allow-list names a line that is not in Sources/ any more: $entry" >&2
        status=1
    fi
done <<< "$allowedLines"

if [ "$status" -eq 0 ]; then
    echo "check-wrapping: $(grep -c . <<< "$hitLines") wrapping operators in Sources/, each in the allow-list with its reason"
fi
exit "$status"
