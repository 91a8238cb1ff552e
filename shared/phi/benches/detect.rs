//! Detection throughput alone (no I/O, no JSON): mixed clinical notes and clinical text without PHI.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use medvault_phi::eval::{corpus, phi_free_text};
use medvault_phi::{AnalyzeOptions, Analyzer};

fn detection(c: &mut Criterion) {
    let analyzer = Analyzer::new().expect("analyzer");
    let options = AnalyzeOptions::default();
    let mixed: Vec<String> = corpus(1, 200).into_iter().map(|n| n.text).collect();
    let clean: Vec<String> = (0..200).map(|i| phi_free_text(i, 2048)).collect();
    let mut group = c.benchmark_group("detect");
    for (name, docs) in [("mixed_clinical", &mixed), ("no_phi", &clean)] {
        let bytes: usize = docs.iter().map(String::len).sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        group.bench_function(name, |b| {
            b.iter(|| docs.iter().map(|d| analyzer.analyze(d, &options).len()).sum::<usize>());
        });
    }
    group.finish();
}

criterion_group!(benches, detection);
criterion_main!(benches);
