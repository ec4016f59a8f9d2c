#!/bin/sh
# Speaks the attended park's orbit prompts (docs/design.md §5 "Attended park"): lead-in.wav ("orbit") and 0.wav-9.wav,
# each 8000 Hz mono 16-bit PCM, what the music on hold streamer reads. Needs espeak-ng and sox (Debian packages).
# Usage: config/music/prompts/make-prompts.sh [output directory]   (default: the directory of this script)
set -eu
out=${1:-$(dirname "$0")}
voice=${PROMPT_VOICE:-en-us}
speed=${PROMPT_SPEED:-150}
command -v espeak-ng >/dev/null || { echo "make-prompts: espeak-ng is not installed" >&2; exit 1; }
command -v sox >/dev/null || { echo "make-prompts: sox is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

speak() { # name text
    espeak-ng -v "$voice" -s "$speed" -w "$tmp/$1.raw.wav" "$2"
    # Resample to 8 kHz mono 16-bit, trim the leading and trailing silence espeak leaves, then a short pause
    # after each word so the digits stay apart; -G guards against clipping when resampling.
    sox -G "$tmp/$1.raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$tmp/$1.wav" \
        silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse pad 0 0.15
    mv "$tmp/$1.wav" "$out/$1.wav"
}

speak lead-in "orbit"
for digit in 0 1 2 3 4 5 6 7 8 9; do
    case $digit in
        0) word=zero ;; 1) word=one ;; 2) word=two ;; 3) word=three ;; 4) word=four ;;
        5) word=five ;; 6) word=six ;; 7) word=seven ;; 8) word=eight ;; 9) word=nine ;;
    esac
    speak "$digit" "$word"
done
echo "make-prompts: wrote lead-in.wav and 0.wav-9.wav to $out"
