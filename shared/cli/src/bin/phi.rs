//! `phi`: PHI detection and de-identification of JSON Lines and text files from the command line.

/// mimalloc in place of glibc's allocator, for the transparent huge pages it asks the kernel for (its `allow_thp`
/// option, on by default): the analyzer's tables (about 14 MB built at start-up, a 4 MiB gazetteer among them) and the
/// chunk buffers are then faulted in 2 MiB at a time, 250 page faults a run where glibc's 4 KiB pages took 5,600, and
/// looked up with fewer TLB misses. The gain is the huge pages', not the allocator's own: with `MIMALLOC_ALLOW_THP=0`
/// a run took as long as with glibc. The cost is memory: a peak of 52 MB where glibc kept 19 MB (mixed notes, one
/// thread), as huge pages are committed whole.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    medvault_cli::phi::main()
}
