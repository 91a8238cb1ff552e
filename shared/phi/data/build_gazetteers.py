#!/usr/bin/env python3
"""Rebuilds the compressed gazetteers in this folder from the registry packages named in SOURCES.md.

Usage: python3 build_gazetteers.py NAMES_DIR ZIPCODES_CODES_JS AMERICAN_ENGLISH
  NAMES_DIR           the `names/` folder of PyPI `names` 0.3.0 (dist.male.first, dist.female.first, dist.all.last)
  ZIPCODES_CODES_JS   `package/lib/codes.js` of npm `zipcodes` 8.0.0
  AMERICAN_ENGLISH    `/usr/share/dict/american-english` of Debian `wamerican` 2020.12.07-2
Outputs are gzip files (mtime 0, so rebuilding is byte-for-byte reproducible) of one lower-case entry per line, most frequent first where the source ranks them.
"""
import gzip, json, re, sys

names_dir, codes_js, dict_path = sys.argv[1:4]

def census(path):
    out = []
    for line in open(path, encoding="ascii"):
        parts = line.split()
        if parts:
            out.append(parts[0].lower())
    return out

def write(name, entries):
    seen, unique = set(), []
    for e in entries:
        if e and e not in seen:
            seen.add(e)
            unique.append(e)
    with gzip.GzipFile(name, "wb", compresslevel=9, mtime=0) as f:
        f.write(("\n".join(unique) + "\n").encode("utf-8"))
    return seen

male, female = census(f"{names_dir}/dist.male.first"), census(f"{names_dir}/dist.female.first")
# Interleave so that the file stays ordered by rank across both sexes.
first = [n for pair in zip(male, female) for n in pair] + male[len(female):] + female[len(male):]
first_set = write("first_names.txt.gz", first)
last_set = write("surnames.txt.gz", census(f"{names_dir}/dist.all.last"))

text = open(codes_js, encoding="utf-8").read()
codes, _ = json.JSONDecoder().raw_decode(text, text.index("{"))
places = sorted({v["city"].lower() for v in codes.values() if v.get("country") == "US" and v.get("city")})
place_set = write("us_places.txt.gz", places)

# English words (lower-case dictionary entries) that are also a name or a place: such tokens need context.
words = {w.strip() for w in open(dict_path, encoding="utf-8") if re.fullmatch(r"[a-z]+\n?", w)}
write("common_words.txt.gz", sorted(words & (first_set | last_set | place_set)))
# Every lower-case English word: a word outside this list and the gazetteers is probably a name.
write("english_words.txt.gz", sorted(words))
