//! Decompresses the gazetteers of `data/` into `OUT_DIR`, where `src/gazetteer.rs` includes them as text: decoding
//! them at start-up cost about a fifth of it (the repository keeps them compressed).

use std::io::Read;
use std::path::Path;

const GAZETTEERS: [&str; 5] = ["first_names", "surnames", "us_places", "common_words", "english_words"];

fn main() {
    let out_dir = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR");
    for name in GAZETTEERS {
        let source = format!("data/{name}.txt.gz");
        println!("cargo:rerun-if-changed={source}");
        let compressed = std::fs::read(&source).unwrap_or_else(|e| panic!("reading {source}: {e}"));
        let mut text = String::new();
        flate2::read::GzDecoder::new(compressed.as_slice())
            .read_to_string(&mut text)
            .unwrap_or_else(|e| panic!("decompressing {source}: {e}"));
        let target = Path::new(&out_dir).join(format!("{name}.txt"));
        std::fs::write(&target, text).unwrap_or_else(|e| panic!("writing {}: {e}", target.display()));
    }
    println!("cargo:rerun-if-changed=build.rs");
}
