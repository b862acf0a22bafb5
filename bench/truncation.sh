#!/usr/bin/env bash
# How many MPEG-TS inputs cut on a 188-byte boundary `edgenode segment` refuses. Cuts CUTS random (seeded) packet
# boundaries of each of four encodings (H.264/AAC, H.265/AAC, interlaced H.264/AC-3, MP3 alone) and sorts every cut:
#   refused     - segment exited non-zero with "truncated or corrupt"
#   boundary    - published, and the cut fell on a PES packet boundary (the file is a valid, shorter stream:
#                 no check can tell it from one that ends there)
#   missed      - published although the cut fell inside a PES packet (a truncation that got through)
#
#   bench/truncation.sh [CUTS]      (default 40 cuts per encoding)
set -euo pipefail
cd "$(dirname "$0")/.."
cuts=${1:-40}
scripts/install-deps.sh python3 ffmpeg >/dev/null
swift build -c release --product edgenode >/dev/null
bin=$PWD/.build/release/edgenode
work=bench/work/truncation
mkdir -p "$work"
cd "$work"
[ -f k.key ] || "$bin" keygen --out k --force >/dev/null
make_clip() {
  [ -f "$1.ts" ] || ffmpeg -loglevel error -y -nostdin "${@:2}" -f mpegts "$1.ts"
}
make_clip h264-aac -f lavfi -i testsrc2=size=640x360:rate=30 -f lavfi -i sine=frequency=440:sample_rate=48000 -t 20 \
  -c:v libx264 -preset veryfast -g 60 -pix_fmt yuv420p -c:a aac -b:a 96k
make_clip hevc-aac -f lavfi -i testsrc2=size=640x360:rate=25 -f lavfi -i sine=frequency=330 -t 20 \
  -c:v libx265 -preset ultrafast -x265-params log-level=error:keyint=50 -pix_fmt yuv420p -c:a aac
make_clip interlaced-ac3 -f lavfi -i testsrc2=size=720x576:rate=25 -f lavfi -i sine -t 20 \
  -c:v libx264 -preset veryfast -flags +ildct+ilme -x264opts tff=1 -pix_fmt yuv420p -c:a ac3
make_clip mp3 -f lavfi -i sine=frequency=660:sample_rate=44100 -t 20 -c:a libmp3lame
python3 - "$bin" "$cuts" <<'PY'
import random, subprocess, sys, shutil
binary, cuts = sys.argv[1], int(sys.argv[2])
rng = random.Random(20261202)
print(f"{'input':16} {'cuts':>5} {'refused':>8} {'boundary':>9} {'missed':>7}")
for name in ["h264-aac", "hevc-aac", "interlaced-ac3", "mp3"]:
    data = open(f"{name}.ts", "rb").read()
    packets = len(data) // 188
    counts = {"refused": 0, "boundary": 0, "missed": 0}
    missed = []
    for _ in range(cuts):
        cut = rng.randrange(20, packets - 1)
        with open("cut.ts", "wb") as f:
            f.write(data[:cut * 188])
        shutil.rmtree("out", ignore_errors=True)
        run = subprocess.run([binary, "segment", "cut.ts", "--out", "out", "--key", "k.key", "--no-fsync"],
                             capture_output=True, text=True)
        if run.returncode != 0:
            if "truncated or corrupt" not in run.stderr:
                sys.exit(f"{name} cut at packet {cut}: unexpected failure: {run.stderr.strip()}")
            counts["refused"] += 1
            continue
        # Published: did the cut leave every PES packet whole? It did if the first dropped packet starts a unit
        # (or carries no PES at all: PAT, PMT, SDT).
        header = data[cut * 188:cut * 188 + 4]
        pid = (header[1] & 0x1f) << 8 | header[2]
        whole = header[1] & 0x40 != 0 or pid < 0x20 or pid == 0x1000
        counts["boundary" if whole else "missed"] += 1
        if not whole:
            missed.append(f"{cut} (PID {pid:#x})")
    print(f"{name:16} {cuts:>5} {counts['refused']:>8} {counts['boundary']:>9} {counts['missed']:>7}"
          + (f"   missed at packets {', '.join(missed)}" if missed else ""))
shutil.rmtree("out", ignore_errors=True)
PY
