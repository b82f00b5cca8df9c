#!/usr/bin/env bash
# Makes the compressed test clips of AudioDecoderTests (committed: sox, oggenc and lame are not on CI or a user's
# machine). Each is half a second of sine at half full scale: the mono files 440 Hz, the stereo files 440 Hz on the
# left and 1000 Hz on the right, so a decoder that averages the channels gives both tones at a quarter of full scale.
# Run from this folder: bash make.sh
set -euo pipefail
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

sox -n -r 22050 -c 1 -b 16 "$scratch/mono.wav" synth 0.5 sine 440 vol 0.5
sox -n -r 44100 -c 2 -b 16 "$scratch/stereo.wav" synth 0.5 sine 440 sine 1000 vol 0.5

oggenc --quiet --quality 3 -o sine440-mono-22050.ogg "$scratch/mono.wav"
oggenc --quiet --quality 3 -o sine440-1000-stereo-44100.ogg "$scratch/stereo.wav"

# The mono MP3 starts with an ID3v2 tag, the stereo one with an MPEG frame: both ways a file may begin.
lame --quiet -b 32 --id3v2-only --tt "sine 440 Hz" "$scratch/mono.wav" sine440-mono-22050.mp3
lame --quiet -b 96 --resample 44.1 -m s -t "$scratch/stereo.wav" sine440-1000-stereo-44100.mp3

# damaged/: files the fuzzing found to break a bound once, kept as FuzzOggTests.DamagedOggFilesGetClearErrors cases
# (written by the fuzz tests, not by this script).
